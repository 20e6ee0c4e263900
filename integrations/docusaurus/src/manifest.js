'use strict';
/**
 * The manifest the chat server indexes: every built page of every docs instance, version and
 * locale (plus blog posts and standalone pages when asked), with the permalink Docusaurus
 * serves it at, its version and locale, its heading anchors and its text. Built from the
 * routes Docusaurus itself computed, so the server never re-implements ids, slugs, number
 * prefixes, `routeBasePath`, `baseUrl` or `trailingSlash`.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { extractPage } = require('./extract');
const { pathFilter } = require('./options');

const SCHEMA = 'docs-chat-manifest/1';
const DOCS_PLUGIN = 'docusaurus-plugin-content-docs';
const BLOG_PLUGIN = 'docusaurus-plugin-content-blog';
const PAGES_PLUGIN = 'docusaurus-plugin-content-pages';

function pageHash(page) {
  const { hash, ...rest } = page;
  return crypto.createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** The built HTML file of a permalink, or null (trailingSlash true/false/undefined builds). */
function htmlFileFor(outDir, baseUrl, permalink) {
  let route = permalink.startsWith(baseUrl) ? permalink.slice(baseUrl.length) : permalink.replace(/^\//, '');
  route = decodeURIComponent(route);
  const candidates = route === '' || route.endsWith('/')
    ? [path.join(outDir, route, 'index.html')]
    : [path.join(outDir, route, 'index.html'), path.join(outDir, `${route}.html`), path.join(outDir, route)];
  const root = path.resolve(outDir);
  return candidates.find((file) => path.resolve(file).startsWith(root) && fs.existsSync(file) && fs.statSync(file).isFile()) || null;
}

/** The pages to index as {permalink, pluginId, kind, version, fallbackTitle}. */
function candidatePages(plugins, options) {
  const out = [];
  for (const plugin of plugins || []) {
    const pluginId = (plugin.options && plugin.options.id) || 'default';
    if (plugin.name === DOCS_PLUGIN) {
      if (options.docsPluginIds && !options.docsPluginIds.includes(pluginId)) continue;
      for (const version of (plugin.content && plugin.content.loadedVersions) || []) {
        const info = {
          name: version.versionName,
          label: version.label,
          isCurrent: version.versionName === 'current',
          isLast: Boolean(version.isLast),
        };
        for (const doc of version.docs || []) {
          if (doc.draft) continue;
          out.push({ permalink: doc.permalink, pluginId, kind: 'docs', version: info, fallbackTitle: doc.title, unlisted: Boolean(doc.unlisted) });
        }
      }
    } else if (plugin.name === BLOG_PLUGIN && options.blog) {
      for (const post of (plugin.content && plugin.content.blogPosts) || []) {
        if (post.metadata.unlisted) continue;
        out.push({ permalink: post.metadata.permalink, pluginId, kind: 'blog', version: null, fallbackTitle: post.metadata.title });
      }
    } else if (plugin.name === PAGES_PLUGIN && options.pages) {
      for (const page of (plugin.content) || []) {
        out.push({ permalink: page.permalink, pluginId, kind: 'page', version: null, fallbackTitle: '' });
      }
    }
  }
  return out;
}

/**
 * Build the manifest object for one locale build. `plugins` are Docusaurus' loaded plugins
 * (postBuild's `props.plugins`); `outDir` is the locale's build folder.
 */
function buildManifest({ siteConfig, i18n, plugins, outDir, options, generator }) {
  const baseUrl = siteConfig.baseUrl || '/';
  const siteUrl = siteConfig.url.replace(/\/+$/, '');
  const locale = (i18n && i18n.currentLocale) || 'en';
  const keep = pathFilter(options);
  const pages = [];
  const missing = [];
  const seen = new Set();
  for (const item of candidatePages(plugins, options)) {
    if (seen.has(item.permalink) || !keep(item.permalink)) continue;
    seen.add(item.permalink);
    const file = htmlFileFor(outDir, baseUrl, item.permalink);
    if (!file) {
      missing.push(item.permalink);
      continue;
    }
    const url = siteUrl + item.permalink;
    const extracted = extractPage(fs.readFileSync(file, 'utf8'), { pageUrl: url });
    if (!extracted) {
      missing.push(item.permalink);
      continue;
    }
    const page = {
      permalink: item.permalink,
      url,
      title: extracted.title || item.fallbackTitle || item.permalink,
      kind: item.kind,
      pluginId: item.pluginId,
      version: item.version,
      locale,
      headings: extracted.headings,
      anchors: extracted.anchors,
      text: extracted.text,
    };
    page.hash = pageHash(page);
    pages.push(page);
  }
  pages.sort((a, b) => (a.permalink < b.permalink ? -1 : a.permalink > b.permalink ? 1 : 0));
  return {
    manifest: {
      schema: SCHEMA,
      generator,
      siteUrl,
      baseUrl,
      trailingSlash: siteConfig.trailingSlash === undefined ? null : siteConfig.trailingSlash,
      locale,
      defaultLocale: (i18n && i18n.defaultLocale) || locale,
      locales: (i18n && i18n.locales) || [locale],
      pages,
    },
    missing,
  };
}

module.exports = { SCHEMA, buildManifest, candidatePages, htmlFileFor, pageHash };
