/** Architecture rules (docs/architecture.md §9): layers that only import downward, a pure domain, no cycles. */
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
    // The layers, top to bottom: the entry points and src/startup (the composition root) wire
    // src/server, webhooks and workers (the edges), which use src/runtime (services shared by the
    // edges), which use src/sync, which uses src/store, src/crm and src/queue, which use src/domain.
    {
      name: 'startup-is-the-top',
      severity: 'error',
      comment: 'Only the entry points import the composition root (src/startup): nothing it wires may reach back up into it.',
      from: { pathNot: '^src/(main\\.ts|sandbox/main\\.ts|startup/)' },
      to: { path: '^src/startup/' },
    },
    {
      name: 'services-below-the-edges',
      severity: 'error',
      comment: 'src/runtime holds services the edges share: it does not import the server, the receivers or the workers.',
      from: { path: '^src/runtime/' },
      to: { path: ['^src/server/', '^webhooks/', '^workers/'] },
    },
    {
      name: 'sync-below-the-services',
      severity: 'error',
      comment: 'The sync is used by services and edges, never the other way round.',
      from: { path: '^src/sync/' },
      to: { path: ['^src/(runtime|server)/', '^webhooks/', '^workers/'] },
    },
    {
      name: 'adapters-below-the-sync',
      severity: 'error',
      comment: 'The store, the CRM adapters and the queue are below the sync: they import only each other and the domain.',
      from: { path: '^src/(store|crm|queue)/' },
      to: { path: ['^src/(sync|runtime|server)/', '^webhooks/', '^workers/'] },
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
