import {strict as assert} from 'node:assert'

import {parseControlUrl, shownEndpoint} from '../../src/control/client.js'
import {CtlError, EXIT} from '../../src/errors.js'

/** parseControlUrl refuses `url` with exit 2, one line matching `message`, none of `secrets` in it. */
const usage = (url: string, message: RegExp, ...secrets: string[]) => {
  assert.throws(
    () => parseControlUrl(url),
    (error: unknown) => {
      assert.ok(error instanceof CtlError)
      assert.equal(error.exitCode, EXIT.usage)
      assert.match(error.message, message)
      assert.doesNotMatch(error.message, /\n/)
      for (const secret of secrets) assert.ok(!error.message.includes(secret), `${secret} in ${error.message}`)
      return true
    },
  )
}

describe('parseControlUrl: a usage error (exit 2) on one line, its secrets out', () => {
  it('ports out of range: 0, 65536, 99999, and a port of many digits', () => {
    usage('tcp://127.0.0.1:0', /^control URL tcp:\/\/127\.0\.0\.1:0: port 0 is out of range \(1-65535\)$/)
    usage('tcp://127.0.0.1:65536', /port 65536 is out of range/)
    usage('tcp://127.0.0.1:99999', /port 99999 is out of range/)
    usage(`tcp://127.0.0.1:${'9'.repeat(30)}`, /port number is out of range/)
    assert.deepEqual(parseControlUrl('tcp://127.0.0.1:65535'), {kind: 'tcp', host: '127.0.0.1', port: 65_535})
    assert.deepEqual(parseControlUrl('tcp://[::1]:1/'), {kind: 'tcp', host: '::1', port: 1})
  })

  it('a token in a query or a userinfo part: refused, and not printed', () => {
    usage(
      'tcp://127.0.0.1:9293?token=s3cret',
      /^control URL tcp:\/\/127\.0\.0\.1:9293\?\*\*\*: a user, password or query/,
      's3cret',
    )
    usage('tcp://puma:s3cret@127.0.0.1:9293', /^control URL tcp:\/\/\*\*\*@127\.0\.0\.1:9293: /, 's3cret')
    usage('unix:///tmp/ctl.sock?token=s3cret', /query is not part of a control URL/, 's3cret')
  })

  it('malformed: shown when URL-shaped, described otherwise', () => {
    usage(
      'http://127.0.0.1:9293',
      /^control URL http:\/\/127\.0\.0\.1:9293 is not tcp:\/\/HOST:PORT, ssl:\/\/HOST:PORT or unix:\/\/\/PATH$/,
    )
    usage('root:$6$salt$hash', /^control URL \(not a URL: 17 bytes\) is not tcp:/, '$6$')
  })

  it("ssl://: host and port; Puma's own certificate settings in the query are allowed (and never sent)", () => {
    assert.deepEqual(parseControlUrl('ssl://127.0.0.1:9293'), {kind: 'ssl', host: '127.0.0.1', port: 9293})
    assert.deepEqual(parseControlUrl('ssl://[::1]:9293?key=/srv/k.pem&cert=/srv/c.pem'), {
      kind: 'ssl',
      host: '::1',
      port: 9293,
    })
    usage('ssl://127.0.0.1:70000', /port 70000 is out of range/)
  })

  it('shownEndpoint redacts the endpoint token wherever it appears', () => {
    assert.equal(
      shownEndpoint({url: 'unix:///run/abc123/ctl.sock', token: 'abc123', origin: '--control-url'}),
      'unix:///run/***/ctl.sock',
    )
  })
})
