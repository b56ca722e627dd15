import {strict as assert} from 'node:assert'

import {describeUnquoted, isQuotableNumber, redactToken, shownUrl} from '../../src/text/untrusted.js'

describe('text/untrusted: what of a file or flag ctl quotes back', () => {
  it('quotes only short numbers, as a mistyped PID would be', () => {
    for (const text of ['-1', '+42', '12.5', '0', '99999999999999999999']) assert.ok(isQuotableNumber(text), text)
    for (const text of ['abc', '0x10', '42 43', '', '9'.repeat(25), 'root:$6$salt$hash', '1\n2'])
      assert.ok(!isQuotableNumber(text), text)
  })

  it('describes the rest by kind and size: empty, binary data, not what was expected', () => {
    assert.equal(describeUnquoted(' \n', 'a number'), 'empty')
    assert.equal(describeUnquoted('a\u0000b', 'a number'), 'binary data: 3 bytes')
    assert.equal(describeUnquoted('\uFFFD', 'a number'), 'binary data: 3 bytes')
    assert.equal(describeUnquoted('root:$6$salt$hash:1:::\n', 'a number'), 'not a number: 23 bytes')
    assert.equal(describeUnquoted('é', 'a URL'), 'not a URL: 2 bytes')
  })

  it('shownUrl: a userinfo part, the query, the fragment and the token itself are never shown', () => {
    assert.equal(shownUrl('tcp://127.0.0.1:9293'), 'tcp://127.0.0.1:9293')
    assert.equal(shownUrl('unix:///srv/my app/ctl.sock'), 'unix:///srv/my app/ctl.sock')
    assert.equal(shownUrl('unix://@puma-ctl'), 'unix://@puma-ctl')
    assert.equal(shownUrl('tcp://admin:hunter2@127.0.0.1:9293/'), 'tcp://***@127.0.0.1:9293/')
    assert.equal(shownUrl('tcp://127.0.0.1:9293?token=s3cret&x=1'), 'tcp://127.0.0.1:9293?***')
    assert.equal(shownUrl('http://h/up#s3cret'), 'http://h/up#***')
    assert.equal(shownUrl('unix:///run/s3cret.sock', 's3cret'), 'unix:///run/***.sock')
  })

  it('shownUrl: what is not URL-shaped (a state file may hold anything) is described, not quoted', () => {
    assert.equal(shownUrl('root:$6$salt$hash'), '(not a URL: 17 bytes)')
    assert.equal(shownUrl('tcp://\u001B[2K'), '(binary data: 10 bytes)')
    assert.equal(shownUrl(`tcp://${'a'.repeat(400)}`), '(not a URL: 406 bytes)')
  })

  it('redactToken: the token and its URL-encoded form; "none" and no token leave the text alone', () => {
    assert.equal(redactToken('GET /stats?token=a%2Fb HTTP/1.0 a/b', 'a/b'), 'GET /stats?token=*** HTTP/1.0 ***')
    assert.equal(redactToken('none of it', 'none'), 'none of it')
    assert.equal(redactToken('text', undefined), 'text')
  })
})
