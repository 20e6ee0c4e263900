'use strict';
/**
 * docusaurus-plugin-docs-chat: one line in docusaurus.config.js puts the chat widget on
 * every page (an external <script defer>, so a strict Content-Security-Policy works) and
 * writes build/docs-chat/manifest.json, which `manage.py ingest_site build/` or
 * `POST /api/ingest` turns into the chat server's index.
 *
 *   plugins: [['docusaurus-plugin-docs-chat', {server: 'https://chat.example.com'}]]
 */

const fs = require('node:fs');
const path = require('node:path');

const { buildManifest } = require('./manifest');
const { PLUGIN, normalizeOptions } = require('./options');
const { version } = require('../package.json');

function widgetTag(options, locale) {
  const attributes = {
    src: options.server + options.scriptPath,
    defer: true,
    'data-api': options.server,
    'data-locale': locale,
  };
  if (options.integrity) {
    attributes.integrity = options.integrity;
    attributes.crossorigin = 'anonymous';
  }
  return { tagName: 'script', attributes };
}

function pluginDocsChat(context, rawOptions) {
  const options = normalizeOptions(rawOptions);
  const locale = (context.i18n && context.i18n.currentLocale) || 'en';
  return {
    name: PLUGIN,

    injectHtmlTags() {
      return { headTags: [widgetTag(options, locale)] };
    },

    async postBuild(props) {
      if (!options.manifest) return;
      const { manifest, missing } = buildManifest({
        siteConfig: props.siteConfig,
        i18n: props.i18n || context.i18n,
        plugins: props.plugins,
        outDir: props.outDir,
        options,
        generator: `${PLUGIN}@${version}`,
      });
      const target = path.join(props.outDir, options.outputPath);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, `${JSON.stringify(manifest)}\n`);
      const note = missing.length ? ` (${missing.length} routes without a built <article> skipped)` : '';
      console.log(`[${PLUGIN}] ${manifest.pages.length} pages (${manifest.locale}) -> ${path.relative(process.cwd(), target)}${note}`);
    },
  };
}

function validateOptions({ options }) {
  // Docusaurus passes the user's options; the returned object is what the plugin receives.
  normalizeOptions(options);
  return options;
}

module.exports = pluginDocsChat;
module.exports.default = pluginDocsChat;
module.exports.validateOptions = validateOptions;
module.exports.widgetTag = widgetTag;
