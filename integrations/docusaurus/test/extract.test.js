'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');

const { extractPage } = require('../src/extract');

const PAGE = `<!doctype html><html><head><title>Intro | Site</title></head><body>
<nav class="navbar">Docs Blog GitHub</nav>
<main><article>
<nav class="theme-doc-breadcrumbs"><a href="/">Home</a> Crumb</nav>
<span class="theme-doc-version-badge">Version: 1.0</span>
<div class="theme-doc-toc-mobile"><button>On this page</button></div>
<div class="theme-doc-markdown markdown"><header><h1>Intro page</h1></header>
<p>Read <a href="../other#x">the other page</a> and call <code>foo()</code>.</p>
<h2 class="anchor" id="install">Install<a href="#install" class="hash-link" aria-label="Direct link to Install">\u200b</a></h2>
<div class="language-bash theme-code-block"><div class="codeBlockContent"><pre class="prism-code language-bash"><code><span class="token-line"><span>npm i x</span><br></span><span class="token-line"><span>echo &lt;y&gt; | grep z</span><br></span></code></pre><button aria-label="Copy code">Copy</button></div></div>
<table><thead><tr><th>Option</th><th>Default</th></tr></thead><tbody><tr><td><code>port</code></td><td>8081</td></tr></tbody></table>
<h3 class="anchor" id="on-windows">On Windows</h3><ul><li>one</li><li>two<ul><li>deep</li></ul></li></ul>
</div>
<footer class="theme-doc-footer"><a href="https://github.com/x/edit">Edit this page</a></footer>
</article>
<nav class="pagination-nav"><a href="/docs/next">Next page</a></nav>
</main></body></html>`;

test('the article text keeps code and tables and leaves the chrome out', () => {
  const page = extractPage(PAGE, { pageUrl: 'https://e.com/docs/1.0/intro' });
  assert.equal(page.title, 'Intro page');
  assert.match(page.text, /```bash\nnpm i x\necho <y> \| grep z\n```/);
  assert.match(page.text, /\| Option \| Default \|\n\| --- \| --- \|\n\| `port` \| 8081 \|/);
  assert.match(page.text, /## Install \{#install\}/);
  assert.match(page.text, /- two\n {2}- deep/);
  for (const chrome of ['Crumb', 'Version: 1.0', 'On this page', 'Edit this page', 'Next page', 'Docs Blog', 'Copy']) {
    assert.equal(page.text.includes(chrome), false, `chrome "${chrome}" leaked into the text`);
  }
});

test('links become absolute against the page URL', () => {
  const page = extractPage(PAGE, { pageUrl: 'https://e.com/docs/1.0/intro' });
  assert.match(page.text, /\[the other page\]\(https:\/\/e\.com\/docs\/other#x\)/);
});

test('the heading tree carries the anchors Docusaurus generated', () => {
  const page = extractPage(PAGE, { pageUrl: 'https://e.com/docs/1.0/intro' });
  assert.deepEqual(page.headings, [
    { level: 2, id: 'install', text: 'Install', children: [{ level: 3, id: 'on-windows', text: 'On Windows', children: [] }] },
  ]);
  assert.deepEqual(page.anchors.slice(0, 2), ['install', 'on-windows']);
});

test('a page without an article is not a docs page', () => {
  assert.equal(extractPage('<html><body><main>Landing</main></body></html>', { pageUrl: 'https://e.com/' }), null);
});
