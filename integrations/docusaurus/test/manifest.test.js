'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const plugin = require('../src/index');
const { buildManifest, htmlFileFor } = require('../src/manifest');
const { normalizeOptions } = require('../src/options');

function article(title, body) {
  return `<html><body><nav>Navbar</nav><article><div class="theme-doc-markdown markdown"><header><h1>${title}</h1></header>${body}</div></article></body></html>`;
}

function site({ trailingSlash, baseUrl = '/' }) {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-chat-'));
  const write = (route, html) => {
    const file = trailingSlash === false ? path.join(outDir, `${route}.html`) : path.join(outDir, route, 'index.html');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, html);
  };
  write('docs/intro', article('Intro', '<h2 id="setup">Setup</h2><p>Current setup.</p>'));
  write('docs/1.0/intro', article('Intro', '<h2 id="setup">Setup</h2><p>Old setup.</p>'));
  write('api/ref', article('Ref', '<p>API.</p>'));
  const slash = trailingSlash ? '/' : '';
  const plugins = [
    { name: 'docusaurus-plugin-content-docs', options: { id: 'default' }, content: { loadedVersions: [
      { versionName: 'current', label: 'Next', isLast: false, docs: [{ permalink: `${baseUrl}docs/intro${slash}`, title: 'Intro' }, { permalink: `${baseUrl}docs/draft`, title: 'Draft', draft: true }] },
      { versionName: '1.0', label: '1.0', isLast: true, docs: [{ permalink: `${baseUrl}docs/1.0/intro${slash}`, title: 'Intro' }] },
    ] } },
    { name: 'docusaurus-plugin-content-docs', options: { id: 'api' }, content: { loadedVersions: [
      { versionName: 'current', label: 'Next', isLast: true, docs: [{ permalink: `${baseUrl}api/ref${slash}`, title: 'Ref' }] },
    ] } },
    { name: 'docusaurus-plugin-content-blog', options: { id: 'default' }, content: { blogPosts: [] } },
  ];
  return { outDir, plugins, siteConfig: { url: 'https://docs.example.com', baseUrl, trailingSlash } };
}

const I18N = { currentLocale: 'en', defaultLocale: 'en', locales: ['en', 'fr'] };

test('every page of every docs instance and version is in the manifest', () => {
  const s = site({});
  const { manifest } = buildManifest({ ...s, i18n: I18N, options: normalizeOptions({ server: 'https://c.example.com' }), generator: 't' });
  assert.equal(manifest.schema, 'docs-chat-manifest/1');
  assert.deepEqual(manifest.pages.map((p) => [p.permalink, p.pluginId, p.version.name, p.version.isLast, p.version.isCurrent]), [
    ['/api/ref', 'api', 'current', true, true],
    ['/docs/1.0/intro', 'default', '1.0', true, false],
    ['/docs/intro', 'default', 'current', false, true],
  ]);
  const old = manifest.pages[1];
  assert.equal(old.url, 'https://docs.example.com/docs/1.0/intro');
  assert.equal(old.locale, 'en');
  assert.match(old.text, /Old setup/);
  assert.deepEqual(old.headings.map((h) => h.id), ['setup']);
  assert.match(old.hash, /^[0-9a-f]{64}$/);
  assert.notEqual(old.hash, manifest.pages[2].hash);
});

test('trailingSlash and baseUrl sites find their built files', () => {
  for (const trailingSlash of [true, false]) {
    const s = site({ trailingSlash, baseUrl: '/site/' });
    const { manifest, missing } = buildManifest({ ...s, i18n: I18N, options: normalizeOptions({ server: 'https://c.example.com' }), generator: 't' });
    assert.deepEqual(missing, []);
    assert.equal(manifest.pages.length, 3);
    const slash = trailingSlash ? '/' : '';
    assert.equal(manifest.pages[1].url, `https://docs.example.com/site/docs/1.0/intro${slash}`);
  }
});

test('a route outside the build folder is never read', () => {
  assert.equal(htmlFileFor(os.tmpdir(), '/', '/../../etc/passwd'), null);
});

test('include, exclude and docsPluginIds narrow the pages', () => {
  const s = site({});
  const opts = (o) => normalizeOptions({ server: 'https://c.example.com', ...o });
  const run = (o) => buildManifest({ ...s, i18n: I18N, options: opts(o), generator: 't' }).manifest.pages.map((p) => p.permalink);
  assert.deepEqual(run({ docsPluginIds: ['api'] }), ['/api/ref']);
  assert.deepEqual(run({ exclude: ['/docs/1.0/**'] }), ['/api/ref', '/docs/intro']);
  assert.deepEqual(run({ include: ['/docs/**'] }), ['/docs/1.0/intro', '/docs/intro']);
});

test('the same build gives the same hashes', () => {
  const s = site({});
  const o = normalizeOptions({ server: 'https://c.example.com' });
  const a = buildManifest({ ...s, i18n: I18N, options: o, generator: 't' }).manifest;
  const b = buildManifest({ ...s, i18n: I18N, options: o, generator: 't' }).manifest;
  assert.deepEqual(a.pages.map((p) => p.hash), b.pages.map((p) => p.hash));
});

test('postBuild writes build/docs-chat/manifest.json', async () => {
  const s = site({});
  const p = plugin({ i18n: I18N }, { server: 'https://c.example.com' });
  const log = console.log;
  console.log = () => {};
  try {
    await p.postBuild({ siteConfig: s.siteConfig, plugins: s.plugins, outDir: s.outDir, i18n: I18N });
  } finally {
    console.log = log;
  }
  const written = JSON.parse(fs.readFileSync(path.join(s.outDir, 'docs-chat', 'manifest.json'), 'utf8'));
  assert.equal(written.pages.length, 3);
  assert.equal(written.generator.startsWith('docusaurus-plugin-docs-chat@'), true);
});
