// The layering of src/ (docs/architecture.md): a file may import only its own layer or a lower one, and no
// two files may import each other, directly or around a loop. `npm run lint` runs this, so a new wrong-way
// import or cycle fails the build. Type-only imports count: a type that lives in the wrong layer is the usual
// first step of a loop.

/** Bottom to top. Each entry is a layer name and the path pattern of its files. */
const LAYERS = [
  ['common', '^src/(common|types)/'],
  ['config', '^src/config/'],
  ['simulator', '^src/simulator/'],
  ['metrics', '^src/metrics/'],
  ['proxmox', '^src/proxmox/'],
  ['audit', '^src/audit/'],
  ['jobs', '^src/jobs/'],
  ['security', '^src/security/'],
  ['database', '^src/database/'],
  ['mcp', '^src/mcp/'],
  ['health', '^src/health/'],
  ['modules', '^src/modules/'],
  ['app', '^src/app\\.[^/]+\\.ts$'],
  // src/main.ts is `node dist/src/main.js`: the CLI without a subcommand, so it sits with the CLI
  ['cli', '^src/(cli/|main\\.ts$)'],
];

const layerRules = LAYERS.slice(0, -1).map(([name, path], index) => ({
  name: `layer-${name}`,
  comment: `${name} is below ${LAYERS.slice(index + 1)
    .map(([higher]) => higher)
    .join(', ')}: move the shared piece down, or let the higher layer hand it in (a DI token or a hook).`,
  severity: 'error',
  from: { path },
  to: { path: LAYERS.slice(index + 1).map(([, higherPath]) => higherPath) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Files import each other (directly or around a loop): move the shared piece into a leaf file.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment: 'Folders import each other (directly or around a loop): one of them should only be imported.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'modules-share-only-guests',
      comment:
        'A domain module imports lower layers, its own folder and src/modules/guests (the shared guest home), ' +
        'never another domain: move what both need into guests or down a layer.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/', pathNot: ['^src/modules/$1/', '^src/modules/guests/'] },
    },
    {
      name: 'src-file-outside-layers',
      comment: 'Every file of src/ belongs to a layer of .dependency-cruiser.mjs: add the new folder there.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, path]) => path) },
      to: {},
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
