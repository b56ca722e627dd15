import {get} from 'node:http'

/** GET a URL on the loopback: its status and body (Node 20's fetch is still experimental to the linter). */
export async function httpGet(url: string): Promise<{body: string; status: number}> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => resolve({status: response.statusCode ?? 0, body}))
    }).on('error', reject)
  })
}
