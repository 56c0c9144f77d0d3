/// <reference lib="dom" />
/**
 * Workspace images as the preview's input. The host lists the workspace's image files and, when the user picks
 * one, sends its bytes in base64 (src/protocol/preview.ts, `images` and `image`); this module decodes them and
 * turns the picture into a [3, H, W] map in [0, 1], resized so that its longer side is the chosen size.
 *
 * Decoding goes through `createImageBitmap` on a Blob made from the bytes, so the page never loads a URL for
 * the picture and the panel's CSP (img-src limited to the extension's files and data:) needs no change. An
 * image the browser cannot decode, or one too large to hold, becomes an error message for the panel, never an
 * exception that escapes.
 */
import { type ImageMessage, MAX_IMAGE_PIXELS } from '../../protocol/preview';
import type { PreviewImage } from './patterns';

/** A decoded workspace image, kept at its full size so that each size the user picks resamples the original. */
export interface WorkspaceImage {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly bitmap: ImageBitmap;
}

/** What the page knows of the workspace's images: the list the host sent, and the picture in use (if any). */
export const workspaceImages: {
  files: readonly string[];
  note: string | null;
  current: WorkspaceImage | null;
} = { files: [], note: null, current: null };

/** The input selector's value for a workspace file: patterns keep their names, files get this prefix. */
export const IMAGE_OPTION_PREFIX = 'image: ';

/** The bytes of base64 text (already checked by `isBase64`). */
export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * The size [height, width] a `width`×`height` picture is resized to so that its longer side is `size`; the
 * shorter side keeps the aspect ratio and is at least one pixel.
 */
export function fitSize(width: number, height: number, size: number): [number, number] {
  if (width >= height) return [Math.max(1, Math.round((height * size) / width)), size];
  return [size, Math.max(1, Math.round((width * size) / height))];
}

/**
 * RGBA pixels (as canvas `getImageData` gives them, row-major, 0–255) → a [3, height, width] map in [0, 1].
 * Alpha is dropped: a transparent pixel shows its colour channels, which canvas already leaves at 0 when the
 * picture drew nothing there.
 */
export function rgbaToInput(rgba: Uint8ClampedArray, width: number, height: number): PreviewImage {
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[c * plane + i] = rgba[i * 4 + c]! / 255;
  }
  return { channels: 3, height, width, data };
}

/** Decodes an `image` message; a failure says which file and why, in words. */
export async function decodeImage(
  message: ImageMessage,
): Promise<{ ok: true; image: WorkspaceImage } | { ok: false; error: string }> {
  let bitmap: ImageBitmap;
  try {
    const bytes = base64ToBytes(message.base64);
    bitmap = await createImageBitmap(new Blob([bytes], { type: message.mime }));
  } catch (error) {
    const why = error instanceof Error && error.message ? ` (${error.message})` : '';
    return {
      ok: false,
      error: `${message.name} could not be decoded as ${message.mime}${why}; pick another image or a pattern.`,
    };
  }
  if (bitmap.width < 1 || bitmap.height < 1 || bitmap.width * bitmap.height > MAX_IMAGE_PIXELS) {
    const { width, height } = bitmap;
    bitmap.close();
    return {
      ok: false,
      error: `${message.name} is ${width}×${height} pixels; the preview reads images of 1 to ${MAX_IMAGE_PIXELS / 1e6} million pixels.`,
    };
  }
  return { ok: true, image: { name: message.name, width: bitmap.width, height: bitmap.height, bitmap } };
}

/** The picture resized so that its longer side is `size` (smoothly), as a [3, H, W] input. */
export function imageInput(image: WorkspaceImage, size: number): PreviewImage {
  const [height, width] = fitSize(image.width, image.height, size);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) return { channels: 3, height, width, data: new Float32Array(3 * height * width) };
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(image.bitmap, 0, 0, width, height);
  return rgbaToInput(context.getImageData(0, 0, width, height).data, width, height);
}
