/**
 * The WebGPU engine's compute kernels, as data: each is `{key, workgroupSize, code}` and the engine caches one
 * pipeline per key and device. Both kernels compute the same thing, one "phase" of a convolution at a time
 * (see src/core/engine/webgpu.ts `planPhases`): every output position o of the phase is o = oStart + oStep·j,
 * it meets the kernel taps k = kStart + kStep·t (t < tCount), and tap t reads the input at
 *   i = base + jStep·j + tStep·t
 * per spatial dimension, skipping positions outside the input (the padding). A plain convolution is one phase
 * (oStep 1, jStep = stride, tStep = dilation); a transposed convolution with stride s is up to ∏s phases, one
 * per output residue, each a dense correlation that only visits the taps landing on it (no zero insertion).
 *
 * Every problem is treated as 3-D (D, H, W): 1-D and 2-D problems get leading dimensions of size 1. Tensor
 * layouts are PyTorch's, row-major: x [N, C_in, D, H, W], y [N, C_out, D, H, W], weight rows addressed through
 * the strides in the parameters (conv [C_out, C_in/g, k...], transposed [C_in, C_out/g, k...]).
 *
 * Arithmetic is plain f32 multiply-add. With integer-valued data whose partial sums stay below 2^24 every
 * product and every partial sum is exact, so neither the summation order nor a fused multiply-add can change
 * a result; that is what makes the golden cases match bit for bit.
 */

/** A compute kernel: WGSL source and the workgroup size it was written for. */
export interface WgslKernel {
  /** Pipeline cache key: equal keys mean identical code. */
  readonly key: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly code: string;
}

/**
 * Bytes of one parameter block. Each dispatch reads its own block through a dynamic uniform offset, so a
 * block fills exactly one 256-byte slot (WebGPU's minUniformBufferOffsetAlignment is at most 256).
 */
export const PARAMS_BYTES = 256;

/** Index (in 32-bit words) of each field of the parameter block; vectors hold (D, H, W, unused). */
export const PARAM = {
  inSize: 0,
  jCount: 4,
  oStart: 8,
  oStep: 12,
  base: 16,
  jStep: 20,
  tStep: 24,
  kStart: 28,
  kStep: 32,
  tCount: 36,
  kSize: 40,
  outSize: 44,
  /** batch, C_in/groups, C_out/groups, groups. */
  channels: 48,
  /** weight stride per output channel, per input channel, per group; 1 when there is a bias. */
  weight: 52,
  /** direct: outputs of the dispatch's phase, first workgroup; tiled: columns, K, first column tile, first group. */
  dispatch: 56,
  /** taps of the phase (tD·tH·tW), outputs of the phase per batch item (jD·jH·jW). */
  volumes: 60,
} as const;

const PARAMS_STRUCT = /* wgsl */ `
struct Params {
  inSize: vec4<i32>,
  jCount: vec4<i32>,
  oStart: vec4<i32>,
  oStep: vec4<i32>,
  base: vec4<i32>,
  jStep: vec4<i32>,
  tStep: vec4<i32>,
  kStart: vec4<i32>,
  kStep: vec4<i32>,
  tCount: vec4<i32>,
  kSize: vec4<i32>,
  outSize: vec4<i32>,
  channels: vec4<u32>,
  weight: vec4<u32>,
  dispatch: vec4<u32>,
  volumes: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// The flat index of output element (n, channel c, phase position j) in y.
fn outIndex(n: u32, c: u32, j: vec3<i32>) -> u32 {
  let cout = p.channels.w * p.channels.z;
  let o = vec3<u32>(p.oStart.xyz + p.oStep.xyz * j);
  let size = vec3<u32>(p.outSize.xyz);
  return (((n * cout + c) * size.x + o.x) * size.y + o.y) * size.z + o.z;
}

// Splits a flat position of the phase (per batch item) into (jD, jH, jW).
fn phasePosition(flat: u32) -> vec3<i32> {
  let count = vec3<u32>(p.jCount.xyz);
  let jw = flat % count.z;
  let rest = flat / count.z;
  return vec3<i32>(vec3<u32>(rest / count.y, rest % count.y, jw));
}

// The weight offset (within one [C_out, C_in] block) of phase tap t.
fn tapOffset(t: vec3<i32>) -> u32 {
  let k = vec3<u32>(p.kStart.xyz + p.kStep.xyz * t);
  let size = vec3<u32>(p.kSize.xyz);
  return (k.x * size.y + k.y) * size.z + k.z;
}
`;

/**
 * The direct kernel: one invocation per output element of a phase, any channel count, every case. The flat
 * output index is (((n·groups + g)·C_out/g + c)·jVolume + j), and a dispatch may start at a workgroup offset
 * so that large problems split into dispatches within maxComputeWorkgroupsPerDimension.
 */
export const DIRECT_KERNEL: WgslKernel = {
  key: 'conv-direct-64',
  workgroupSize: [64, 1, 1],
  code: /* wgsl */ `${PARAMS_STRUCT}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groupsLaunched: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let flat = (p.dispatch.y + wid.y * groupsLaunched.x + wid.x) * 64u + lane;
  if (flat >= p.dispatch.x) {
    return;
  }
  let jVolume = p.volumes.y;
  let cinPerGroup = p.channels.y;
  let coutPerGroup = p.channels.z;
  let groups = p.channels.w;
  let j = phasePosition(flat % jVolume);
  let rest = flat / jVolume;
  let co = rest % coutPerGroup;
  let ng = rest / coutPerGroup;
  let g = ng % groups;
  let n = ng / groups;

  let inSize = p.inSize.xyz;
  let inVolume = u32(inSize.x * inSize.y * inSize.z);
  let start = p.base.xyz + p.jStep.xyz * j;
  let taps = p.tCount.xyz;
  var acc = 0.0;
  for (var ci = 0u; ci < cinPerGroup; ci++) {
    let xChannel = ((n * groups + g) * cinPerGroup + ci) * inVolume;
    let wChannel = g * p.weight.z + co * p.weight.x + ci * p.weight.y;
    for (var td = 0; td < taps.x; td++) {
      let id = start.x + p.tStep.x * td;
      if (id < 0 || id >= inSize.x) {
        continue;
      }
      for (var th = 0; th < taps.y; th++) {
        let ih = start.y + p.tStep.y * th;
        if (ih < 0 || ih >= inSize.y) {
          continue;
        }
        for (var tw = 0; tw < taps.z; tw++) {
          let iw = start.z + p.tStep.z * tw;
          if (iw < 0 || iw >= inSize.z) {
            continue;
          }
          let xv = x[xChannel + u32((id * inSize.y + ih) * inSize.z + iw)];
          let wv = w[wChannel + tapOffset(vec3<i32>(td, th, tw))];
          acc = acc + xv * wv;
        }
      }
    }
  }
  let c = g * coutPerGroup + co;
  if (p.weight.w == 1u) {
    acc = acc + bias[c];
  }
  y[outIndex(n, c, j)] = acc;
}
`,
};

/**
 * The tiled kernel, for large channel counts: the phase as an implicit matrix product
 *   Y[m, col] = Σ_k W[m, k] · X[k, col],  m < C_out/g, col < N·jVolume, k < (C_in/g)·taps,
 * in 64×64 output tiles per workgroup of 16×16 invocations, 4×4 outputs per invocation, K in steps of 16
 * through workgroup memory. X is never materialised: each load computes its input position (zero in the
 * padding). Each invocation loads the same tile column for W and X in every step, so the column's batch item
 * and phase position are decoded once, outside the K loop.
 */
export const TILED_KERNEL: WgslKernel = {
  key: 'conv-tiled-64x64x16',
  workgroupSize: [16, 16, 1],
  code: /* wgsl */ `${PARAMS_STRUCT}
var<workgroup> wTile: array<vec4<f32>, 256>;
var<workgroup> xTile: array<vec4<f32>, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
  let rows = p.channels.z;
  let columns = p.dispatch.x;
  let depth = p.dispatch.y;
  let g = wid.z + p.dispatch.w;
  let m0 = wid.y * 64u;
  let n0 = (wid.x + p.dispatch.z) * 64u;
  let groups = p.channels.w;
  let cinPerGroup = p.channels.y;
  let inSize = p.inSize.xyz;
  let inVolume = u32(inSize.x * inSize.y * inSize.z);
  let taps = vec3<u32>(p.tCount.xyz);
  let tapVolume = p.volumes.x;

  // This invocation loads column 'lane % 64' of both tiles, rows (lane / 64) + 4·i.
  let loadColumn = lane % 64u;
  let loadRow = lane / 64u;
  let m = m0 + loadColumn;
  let mInside = m < rows;
  let wRow = g * p.weight.z + m * p.weight.x;
  let col = n0 + loadColumn;
  let colInside = col < columns;
  let n = col / p.volumes.y;
  let start = p.base.xyz + p.jStep.xyz * phasePosition(col % p.volumes.y);
  let xBatch = (n * groups + g) * cinPerGroup * inVolume;
  let slot = loadColumn / 4u;
  let lanePart = loadColumn % 4u;

  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < depth; k0 += 16u) {
    for (var i = 0u; i < 4u; i++) {
      let kk = loadRow + 4u * i;
      let k = k0 + kk;
      var wv = 0.0;
      var xv = 0.0;
      if (k < depth) {
        let ci = k / tapVolume;
        let tapFlat = k % tapVolume;
        let tw = tapFlat % taps.z;
        let tdh = tapFlat / taps.z;
        let t = vec3<i32>(vec3<u32>(tdh / taps.y, tdh % taps.y, tw));
        if (mInside) {
          wv = w[wRow + ci * p.weight.y + tapOffset(t)];
        }
        let at = start + p.tStep.xyz * t;
        if (colInside && all(at >= vec3<i32>(0)) && all(at < inSize)) {
          xv = x[xBatch + ci * inVolume + u32((at.x * inSize.y + at.y) * inSize.z + at.z)];
        }
      }
      wTile[kk * 16u + slot][lanePart] = wv;
      xTile[kk * 16u + slot][lanePart] = xv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let a = wTile[kk * 16u + lid.y];
      let b = xTile[kk * 16u + lid.x];
      acc[0] = acc[0] + a.x * b;
      acc[1] = acc[1] + a.y * b;
      acc[2] = acc[2] + a.z * b;
      acc[3] = acc[3] + a.w * b;
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < 4u; r++) {
    let row = m0 + lid.y * 4u + r;
    if (row >= rows) {
      break;
    }
    let c = g * rows + row;
    var b = 0.0;
    if (p.weight.w == 1u) {
      b = bias[c];
    }
    for (var q = 0u; q < 4u; q++) {
      let column = n0 + lid.x * 4u + q;
      if (column >= columns) {
        break;
      }
      let item = column / p.volumes.y;
      y[outIndex(item, c, phasePosition(column % p.volumes.y))] = acc[r][q] + b;
    }
  }
}
`,
};
