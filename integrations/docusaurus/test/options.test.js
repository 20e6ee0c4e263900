'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');

const plugin = require('../src/index');
const { normalizeOptions, pathFilter } = require('../src/options');

test('a missing server is a build error naming the option', () => {
  assert.throws(() => plugin.validateOptions({ options: {} }), /option "server" must be the chat server's address/);
});

test('a server that is not http(s) is rejected', () => {
  assert.throws(() => normalizeOptions({ server: 'ftp://chat.example.com' }), /option "server"/);
  assert.throws(() => normalizeOptions({ server: 'https://chat.example.com/?x=1' }), /option "server"/);
});

test('an unknown option is rejected with the list of known ones', () => {
  assert.throws(() => normalizeOptions({ server: 'https://c.example.com', sever: 'x' }), /option "sever" is not an option.*server/);
});

test('bad include, integrity and outputPath values are rejected', () => {
  assert.throws(() => normalizeOptions({ server: 'https://c.example.com', include: '/docs/**' }), /option "include"/);
  assert.throws(() => normalizeOptions({ server: 'https://c.example.com', integrity: 'md5-abc' }), /option "integrity"/);
  assert.throws(() => normalizeOptions({ server: 'https://c.example.com', outputPath: '../x.json' }), /option "outputPath"/);
  assert.throws(() => normalizeOptions({ server: 'https://c.example.com', blog: 'yes' }), /option "blog"/);
});

test('the server address loses its trailing slash', () => {
  assert.equal(normalizeOptions({ server: 'https://chat.example.com/' }).server, 'https://chat.example.com');
});

test('include and exclude patterns match whole permalinks', () => {
  const keep = pathFilter({ include: ['/docs/**'], exclude: ['/docs/internal/**', '/docs/*/draft'] });
  assert.equal(keep('/docs/intro'), true);
  assert.equal(keep('/docs/1.0/intro/'), true);
  assert.equal(keep('/docs/internal/secret'), false);
  assert.equal(keep('/docs/1.0/draft'), false);
  assert.equal(keep('/blog/post'), false);
});

test('the widget script is external, deferred and carries server and locale', () => {
  const p = plugin({ i18n: { currentLocale: 'fr' } }, { server: 'https://chat.example.com', integrity: 'sha384-abc+/=' });
  const { headTags } = p.injectHtmlTags();
  assert.equal(headTags.length, 1);
  assert.deepEqual(headTags[0], {
    tagName: 'script',
    attributes: {
      src: 'https://chat.example.com/static/chat/widget.js', defer: true, 'data-api': 'https://chat.example.com',
      'data-locale': 'fr', integrity: 'sha384-abc+/=', crossorigin: 'anonymous',
    },
  });
  assert.equal(headTags[0].innerHTML, undefined);
});
