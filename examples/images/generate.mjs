#!/usr/bin/env node
// Writes sample.png next to this script: a 48×32 RGB test picture (a colour gradient with a dark disc and a
// white bar) for the preview panel's "workspace image" input. Generated rather than drawn by hand so that
// anyone can see what it holds and remake it: `node examples/images/generate.mjs`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const WIDTH = 48;
const HEIGHT = 32;

/** CRC-32 as PNG chunks use it (polynomial 0xEDB88320). */
function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const rows = [];
for (let y = 0; y < HEIGHT; y++) {
  // Each row starts with filter type 0 (none).
  const row = Buffer.alloc(1 + WIDTH * 3);
  for (let x = 0; x < WIDTH; x++) {
    const inDisc = (x - 32) ** 2 + (y - 16) ** 2 < 81;
    const inBar = x >= 6 && x < 16 && y >= 8 && y < 24;
    const rgb = inBar
      ? [255, 255, 255]
      : inDisc
        ? [20, 20, 40]
        : [Math.round((255 * x) / (WIDTH - 1)), Math.round((255 * y) / (HEIGHT - 1)), 128];
    rgb.forEach((v, c) => (row[1 + x * 3 + c] = v));
  }
  rows.push(row);
}
const header = Buffer.alloc(13);
header.writeUInt32BE(WIDTH, 0);
header.writeUInt32BE(HEIGHT, 4);
header[8] = 8; // bit depth
header[9] = 2; // colour type: RGB
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
  chunk('IEND', Buffer.alloc(0)),
]);
fs.writeFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'sample.png'), png);
