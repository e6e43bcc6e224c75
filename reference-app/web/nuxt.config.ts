// The chat is a static single-page app: `nuxt generate` writes .output/public, which any static
// host (or harness/stack/web.ts) serves next to the /api functions on the same origin.
export default defineNuxtConfig({
  compatibilityDate: '2025-07-15',
  ssr: false,
  modules: ['@pinia/nuxt'],
  css: ['~/assets/main.css'],
  devtools: { enabled: false },
  telemetry: false,
  app: {
    head: {
      title: 'Editable chat',
      htmlAttrs: { lang: 'en' },
      meta: [{ name: 'description', content: 'Reference editable chat: Postgres, a connector and Ably.' }],
    },
  },
  typescript: {
    strict: true,
    typeCheck: false,
    // The repo's house style: relative imports name the .ts file (vitest runs the sources).
    tsConfig: {
      compilerOptions: { allowImportingTsExtensions: true, noUncheckedIndexedAccess: true },
      // Unit tests run under Node with the harness's test setup; test/tsconfig.json checks them.
      exclude: ['../app/**/*.test.ts'],
    },
  },
});
