/** A one-line progress bar on a terminal, which log lines can interrupt. */
export interface Progress {
  update: (read: number, total: number | undefined) => void;
  /** Wipes the bar so that a log line can take its place; `redraw` puts it back below. */
  clear: () => void;
  redraw: () => void;
  done: () => void;
}

export function progressBar(out: NodeJS.WritableStream): Progress {
  let last = 0;
  let shown = '';
  const draw = (text: string) => {
    shown = text;
    out.write(`\r\x1b[K${text}`);
  };
  return {
    update(read, total) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      if (total === undefined || total === 0) {
        draw(`${(read / 1e6).toFixed(1)} MB read`);
        return;
      }
      const frac = Math.min(1, read / total);
      const width = 30;
      const filled = Math.round(frac * width);
      draw(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
    },
    clear() {
      if (shown !== '') out.write('\r\x1b[K');
    },
    redraw() {
      if (shown !== '') out.write(shown);
    },
    done() {
      out.write('\r\x1b[K');
      shown = '';
    },
  };
}
