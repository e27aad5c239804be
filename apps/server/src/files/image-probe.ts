import { fileTypeFromFile } from 'file-type';
import sharp from 'sharp';
import type { FileProbe, Sniffed } from '../chat/file-store.js';

// libvips runs on libuv's thread pool, off the event loop; one image at a time
// per process keeps a burst of uploads from taking every core (the machine
// this runs on has two) from the sockets.
sharp.concurrency(1);
// libvips' cache would keep decoded images of uploads that never come back.
sharp.cache(false);

/**
 * What a file is, from its bytes: file-type reads its magic numbers (the
 * first few kB); for an image, sharp reads the size from the header alone,
 * so a small file declaring 50000×50000 pixels is measured, not decoded,
 * and the domain refuses it before anything is (MAX_IMAGE_PIXELS).
 *
 * @param pathOf where a temporary file of the file store lies
 * @param maxPixels sharp's own decoding limit, a second wall behind the domain's check
 */
export function createImageProbe(pathOf: (handle: string) => string, maxPixels: number): FileProbe {
  return {
    async sniff(handle: string): Promise<Sniffed> {
      const file = pathOf(handle);
      const type = await fileTypeFromFile(file);
      const contentType = type?.mime ?? null;
      if (contentType === null || !contentType.startsWith('image/')) return { contentType, image: null };
      try {
        const { width, height } = await sharp(file, { limitInputPixels: false }).metadata();
        return { contentType, image: width && height ? { width, height } : null };
      } catch {
        // A header sharp cannot read: no size, and the thumbnail will fail to decode too.
        return { contentType, image: { width: 0, height: 0 } };
      }
    },
    async thumbnail(handle: string, side: number): Promise<Uint8Array> {
      return sharp(pathOf(handle), { limitInputPixels: maxPixels, failOn: 'error' })
        .rotate()
        .resize(side, side, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 70 })
        .toBuffer();
    },
  };
}
