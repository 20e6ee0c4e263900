'use strict';
/**
 * Turn a built Docusaurus page into what the chat server indexes: the title, the heading
 * tree with the ids Docusaurus gave each heading, and the text of the page's <article> as
 * Markdown (headings carry their id as `{#id}`, code blocks become fenced blocks with their
 * language, tables become pipe tables, links become absolute). Navigation, breadcrumbs,
 * version banners, the table of contents, pagination and the "edit this page" footer are
 * theme chrome and are left out: they would otherwise match every question.
 */

const { parse } = require('node-html-parser');

const ELEMENT = 1;
const TEXT = 3;
// Theme chrome inside or around the article (Docusaurus classic theme class names).
const CHROME = [
  'nav', 'button', 'script', 'style', 'noscript', 'svg', 'img', 'footer',
  '.theme-doc-breadcrumbs', '.theme-doc-version-badge', '.theme-doc-version-banner',
  '.theme-doc-toc-mobile', '.theme-doc-footer', '.pagination-nav', '.hash-link',
  '.theme-edit-this-page', '.theme-last-updated', '[role="tablist"]', '.buttonGroup__atx',
];
const BLOCK = new Set(['p', 'div', 'section', 'details', 'summary', 'blockquote', 'header', 'figure', 'figcaption', 'dl', 'dt', 'dd', 'article', 'main']);

function classes(el) {
  return (el.getAttribute && el.getAttribute('class')) || '';
}

function squash(text) {
  return text.replace(/[\u200b\u00a0]/g, ' ').replace(/\s+/g, ' ').trim();
}

function resolveLink(href, pageUrl) {
  if (!href || href.startsWith('javascript:')) return '';
  try {
    const url = new URL(href, pageUrl);
    return ['http:', 'https:'].includes(url.protocol) ? url.href : '';
  } catch {
    return '';
  }
}

/** Inline text of a node: links as [text](absolute URL), inline code in backticks. */
function inline(node, ctx) {
  if (node.nodeType === TEXT) return node.text.replace(/[\u200b]/g, '');
  if (node.nodeType !== ELEMENT) return '';
  const tag = node.rawTagName && node.rawTagName.toLowerCase();
  if (tag === 'br') return '\n';
  const inner = node.childNodes.map((c) => inline(c, ctx)).join('');
  if (tag === 'code') return inner.trim() ? `\`${inner}\`` : '';
  if (tag === 'a') {
    const href = resolveLink(node.getAttribute('href'), ctx.pageUrl);
    const text = squash(inner);
    return href && text ? `[${text}](${href})` : inner;
  }
  if (tag === 'strong' || tag === 'b') return inner.trim() ? `**${inner.trim()}**` : '';
  if (tag === 'em' || tag === 'i') return inner.trim() ? `*${inner.trim()}*` : '';
  return inner;
}

function codeBlock(container) {
  const pre = container.rawTagName.toLowerCase() === 'pre' ? container : container.querySelector('pre');
  const cls = `${classes(container)} ${pre ? classes(pre) : ''}`;
  const lang = (cls.match(/\blanguage-([\w+#-]+)/) || [])[1] || '';
  const lines = pre ? pre.querySelectorAll('.token-line') : [];
  const code = lines.length
    ? lines.map((line) => line.text.replace(/\n$/, '')).join('\n')
    : (pre ? pre.text : container.text);
  const title = container.querySelector && container.querySelector('[class*="codeBlockTitle"]');
  const fence = code.includes('```') ? '````' : '```';
  const info = [lang, title ? `title="${squash(title.text)}"` : ''].filter(Boolean).join(' ');
  return `${fence}${info}\n${code.replace(/\s+$/, '')}\n${fence}`;
}

function table(el, ctx) {
  const rows = el.querySelectorAll('tr').map((tr) => tr.childNodes
    .filter((c) => c.nodeType === ELEMENT && ['td', 'th'].includes(c.rawTagName.toLowerCase()))
    .map((cell) => squash(cell.childNodes.map((c) => inline(c, ctx)).join(' ')).replace(/\|/g, '\\|')));
  if (!rows.length) return '';
  const width = Math.max(...rows.map((r) => r.length));
  const line = (cells) => `| ${Array.from({ length: width }, (_, i) => cells[i] || '').join(' | ')} |`;
  return [line(rows[0]), line(Array(width).fill('---')), ...rows.slice(1).map(line)].join('\n');
}

function list(el, ctx) {
  const ordered = el.rawTagName.toLowerCase() === 'ol';
  const items = el.childNodes.filter((c) => c.nodeType === ELEMENT && c.rawTagName.toLowerCase() === 'li');
  return items.map((li, i) => {
    const marker = ordered ? `${i + 1}.` : '-';
    const body = blocks(li, ctx).join('\n');
    const pad = ' '.repeat(marker.length + 1);
    return `${marker} ${body.split('\n').map((l, n) => (n === 0 || !l ? l : pad + l)).join('\n')}`;
  }).join('\n');
}

/** Block-level Markdown pieces of an element's children. */
function blocks(el, ctx) {
  const out = [];
  let run = '';
  const flush = () => {
    const text = run.replace(/[ \t]+/g, ' ').replace(/ *\n */g, '\n').trim();
    if (text) out.push(text);
    run = '';
  };
  for (const node of el.childNodes) {
    if (node.nodeType === TEXT) {
      run += node.text.replace(/\s+/g, ' ');
      continue;
    }
    if (node.nodeType !== ELEMENT) continue;
    const tag = node.rawTagName.toLowerCase();
    const cls = classes(node);
    if (/^h[1-6]$/.test(tag)) {
      flush();
      const level = Number(tag[1]);
      const text = squash(node.childNodes.map((c) => inline(c, ctx)).join(''));
      const id = node.getAttribute('id');
      if (text) {
        out.push(`${'#'.repeat(level)} ${text}${id ? ` {#${id}}` : ''}`);
        if (level > 1 && id) ctx.headings.push({ level, id, text });
      }
    } else if (tag === 'pre' || /\btheme-code-block\b|codeBlockContainer/.test(cls)) {
      flush();
      out.push(codeBlock(node));
    } else if (tag === 'table') {
      flush();
      out.push(table(node, ctx));
    } else if (tag === 'ul' || tag === 'ol') {
      flush();
      out.push(list(node, ctx));
    } else if (tag === 'hr') {
      flush();
    } else if (BLOCK.has(tag) || tag === 'li') {
      flush();
      out.push(...blocks(node, ctx));
    } else {
      run += inline(node, ctx);
    }
  }
  flush();
  return out;
}

/** Nest flat headings (h2..h6) into a tree: [{level, id, text, children}]. */
function headingTree(flat) {
  const root = { level: 1, children: [] };
  const stack = [root];
  for (const h of flat) {
    const node = { level: h.level, id: h.id, text: h.text, children: [] };
    while (stack.length > 1 && stack[stack.length - 1].level >= h.level) stack.pop();
    stack[stack.length - 1].children.push(node);
    stack.push(node);
  }
  return root.children;
}

/**
 * Extract a built page. Returns null when the HTML has no <article> (not a docs page).
 * `pageUrl` is the page's absolute URL, used to make links absolute.
 */
function extractPage(html, { pageUrl }) {
  const root = parse(html, { comment: false, blockTextElements: { script: true, style: true } });
  const article = root.querySelector('article');
  if (!article) return null;
  const content = article.querySelector('.theme-doc-markdown') || article.querySelector('.markdown') || article;
  for (const selector of CHROME) {
    for (const el of content.querySelectorAll(selector)) el.remove();
  }
  const ctx = { pageUrl, headings: [] };
  const parts = blocks(content, ctx);
  const h1 = content.querySelector('h1') || article.querySelector('h1');
  const titleTag = root.querySelector('title');
  const title = squash(h1 ? h1.text : (titleTag ? titleTag.text : ''));
  const anchors = [...new Set(ctx.headings.map((h) => h.id))];
  // Other ids on the page (explicit <a id>, footnotes) are valid link targets too.
  for (const el of content.querySelectorAll('[id]')) {
    if (!anchors.includes(el.getAttribute('id'))) anchors.push(el.getAttribute('id'));
  }
  const meta = (name) => {
    const el = root.querySelector(`meta[name="${name}"]`);
    return el ? el.getAttribute('content') : undefined;
  };
  return {
    title,
    headings: headingTree(ctx.headings),
    anchors,
    text: `${parts.join('\n\n')}\n`,
    docsearch: { version: meta('docsearch:version'), language: meta('docsearch:language') },
  };
}

module.exports = { extractPage, headingTree };
