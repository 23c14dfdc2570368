// How a long-lived server (`serve`, `demo`, the container) starts, to bound its memory. Measured by `npm run bench`
// (docs/benchmarks.md, "Memory"); used by bin/proxmox-mcp-plus.js and mirrored in docker/Dockerfile (a test checks).
// - 16 MB semi-spaces: V8 sizes its young generation from the machine's memory and grows it under load past
//   100 MB; 16 MB costs no measurable throughput.
// - A 20 % heap growing factor: V8 otherwise lets the old generation grow to about twice the live data under load
//   before a full collection (peak RSS).
// - glibc malloc: two arenas; blocks of 32 KB and more (request and answer bodies) mapped on their own, so they go
//   back to the system when freed instead of pinning the main heap; a free top of the heap above 128 KB given
//   back. After a load like the bench's, RSS came back to 1.15× idle instead of 1.25×, at no measurable CPU cost.
//   Other C libraries ignore these variables. An operator's own values win.

export const SEMI_SPACE_FLAG = '--max-semi-space-size';

export const NODE_FLAGS = [`${SEMI_SPACE_FLAG}=16`, '--heap-growing-percent=20'];

export const MALLOC_DEFAULTS = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_TRIM_THRESHOLD_: '131072',
  MALLOC_MMAP_THRESHOLD_: '32768',
};
