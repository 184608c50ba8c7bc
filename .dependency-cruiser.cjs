/** Architecture rules (docs/architecture.md §9): pure domain, no cycles. */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'The import graph stays free of cycles.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain holds pure rules: no adapters, store, queue, server, sandbox or Node I/O.',
      from: { path: '^src/domain/' },
      to: {
        path: [
          '^src/(crm|store|queue|server|sandbox|runtime)/',
          '^webhooks/',
          '^workers/',
          'node_modules/(ioredis|bullmq|pg|@electric-sql|express|jsforce|@hubspot)',
        ],
      },
    },
    {
      name: 'domain-no-node-io',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(fs|net|http|https|child_process|dgram|dns|tls|node:fs|node:net|node:http|node:https|node:child_process)',
      },
    },
    {
      name: 'app-does-not-import-sandbox-internals',
      severity: 'error',
      comment: 'Product code talks to a CRM only through its adapter; the sandbox is reached over HTTP.',
      from: { path: '^(src/(crm|domain|queue|store)|webhooks|workers)/' },
      to: { path: '^src/sandbox/' },
    },
    {
      name: 'only-store-reaches-the-database',
      severity: 'error',
      comment: 'SQL lives in src/store: no other module imports a database driver.',
      from: { pathNot: '^src/store/' },
      to: { path: 'node_modules/(pg|@electric-sql/pglite)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
