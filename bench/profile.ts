/**
 * A summary of a V8 CPU profile (`node --cpu-prof`): where the server's thread spent its time,
 * by function (self time) and by area (the package or the part of this project the code is
 * in), and the CPU each request cost. Used by `bench:http -- --profile`.
 */
import { readFileSync } from 'node:fs';
import { sep } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Cost {
  readonly name: string;
  /** Microseconds of CPU in this function itself (or this area), over the whole profile. */
  readonly selfUs: number;
  /** Per request, in microseconds (selfUs / requests), to one decimal. */
  readonly perRequestUs: number;
  /** Share of the busy (non-idle) time, in tenths of a percent. */
  readonly permille: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** Microseconds of the load the samples were taken in. */
  readonly windowUs: number;
  readonly requests: number;
  /** Microseconds the thread was busy (every sample but idle). */
  readonly busyUs: number;
  /** Busy microseconds per request. */
  readonly busyPerRequestUs: number;
  readonly topFunctions: readonly Cost[];
  readonly areas: readonly Cost[];
}

/** Samples V8 takes when the thread waits (for I/O or a timer). */
const IDLE = new Set(['(idle)']);

/** Where a frame's code lives: a package, a part of this project, Node itself, or V8. */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'V8: garbage collector';
    if (functionName === '(program)') return 'V8 and native code (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) {
    const [, first] = /^node:(?:internal\/)?([^/]+)/.exec(url) ?? [];
    return `node: ${first ?? url}`;
  }
  const path = url
    .replace(/^file:\/\//, '')
    .split(sep)
    .join('/');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return `package: ${pkg[1]}`;
  const own = /\/dist\/src\/([^/]+)(?:\/([^/]+))?/.exec(path);
  if (own) return `amisi: src/${own[1]}${own[2] && !own[2].endsWith('.js') ? `/${own[2]}` : ''}`;
  return path;
}

function functionLabel(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  const path = frame.url.replace(/^file:\/\//, '');
  const short = path.includes('node_modules/')
    ? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)
    : path.includes('/dist/')
      ? path.slice(path.lastIndexOf('/dist/') + '/dist/'.length)
      : path;
  return `${name} ${short}:${frame.lineNumber + 1}`;
}

function costs(byName: Map<string, number>, busyUs: number, requests: number, n: number): Cost[] {
  return [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, selfUs]) => ({
      name,
      selfUs: Math.round(selfUs),
      perRequestUs: Math.round((selfUs * 10) / Math.max(1, requests)) / 10,
      permille: busyUs > 0 ? Math.round((selfUs * 1000) / busyUs) : 0,
    }));
}

/** Microseconds on the machine's monotonic clock, which V8's profile timestamps also use. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Reads one profile; `requests` is how many requests the profiled run answered, in the
 * `window` (monotonic microseconds, from monotonicUs() in any process of this machine) that
 * only the samples taken under load fall in: start-up and shutdown are left out.
 */
export function summarizeProfile(
  file: string,
  requests: number,
  window: { readonly fromUs: number; readonly toUs: number },
  top = 10,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByNode = new Map<number, number>();
  // timeDeltas[i] is the time from sample i-1 to sample i: charge it to sample i-1's node.
  let at = profile.startTime + (profile.timeDeltas[0] ?? 0);
  for (let i = 1; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i]!;
    at += delta;
    if (at < window.fromUs || at > window.toUs) continue;
    const id = profile.samples[i - 1]!;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + delta);
  }
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfByNode) {
    const frame = nodes.get(id)!.callFrame;
    if (IDLE.has(frame.functionName)) continue;
    busyUs += us;
    const fn = functionLabel(frame);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const area = areaOf(frame);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  return {
    file,
    windowUs: Math.round(window.toUs - window.fromUs),
    requests,
    busyUs: Math.round(busyUs),
    busyPerRequestUs: Math.round((busyUs * 10) / Math.max(1, requests)) / 10,
    topFunctions: costs(byFunction, busyUs, requests, top),
    areas: costs(byArea, busyUs, requests, top),
  };
}

/** The summary as two tables, for people. */
export function printProfile(title: string, s: ProfileSummary): string {
  const rows = (list: readonly Cost[]) =>
    list
      .map(
        (c) =>
          `  ${String(c.perRequestUs.toFixed(1)).padStart(8)} ${`${(c.permille / 10).toFixed(1)}%`.padStart(7)}  ${c.name}`,
      )
      .join('\n');
  return [
    `${title}: ${s.busyPerRequestUs.toFixed(1)} us of server CPU per request (${s.requests} requests, profile ${s.file})`,
    '  us/req    share  function (self time)',
    rows(s.topFunctions),
    '  us/req    share  area',
    rows(s.areas),
  ].join('\n');
}
