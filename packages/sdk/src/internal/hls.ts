/**
 * Reads the HLS playlist Gradio writes for a streaming Audio output: `#EXTINF:<seconds>,` then the
 * segment's file name, appended as the model yields; `#EXT-X-ENDLIST` marks the end.
 */

export interface PlaylistSegment {
  uri: string;
  /** @unit milliseconds */
  durationMs: number;
}

export interface Playlist {
  segments: PlaylistSegment[];
  ended: boolean;
}

/** Parses an m3u8 media playlist (only the tags Gradio writes matter). */
export function parsePlaylist(text: string): Playlist {
  const segments: PlaylistSegment[] = [];
  let pending: number | null = null;
  let ended = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("#EXTINF:")) {
      const seconds = Number.parseFloat(line.slice(8).split(",")[0] ?? "");
      pending = Number.isFinite(seconds) ? Math.round(seconds * 1000) : 0;
    } else if (line === "#EXT-X-ENDLIST") {
      ended = true;
    } else if (!line.startsWith("#")) {
      segments.push({ uri: line, durationMs: pending ?? 0 });
      pending = null;
    }
  }
  return { segments, ended };
}

/** One segment the reader has not handed out before. */
export interface NewSegment extends PlaylistSegment {
  index: number;
  url: string;
}

/**
 * Follows one growing playlist and hands out each segment exactly once, in order. Gradio only
 * appends (media sequence 0), so the position in the list is the segment's identity; the URI set
 * guards against a server that rewrites the list.
 */
export class PlaylistFollower {
  readonly playlistUrl: string;
  private handedOut = 0;
  private readonly seen = new Set<string>();
  ended = false;

  constructor(playlistUrl: string) {
    this.playlistUrl = playlistUrl;
  }

  /** Segments of `playlist` not handed out yet. */
  take(playlist: Playlist): NewSegment[] {
    const fresh: NewSegment[] = [];
    for (const seg of playlist.segments.slice(this.handedOut)) {
      this.handedOut++;
      if (this.seen.has(seg.uri)) continue;
      this.seen.add(seg.uri);
      fresh.push({ ...seg, index: this.seen.size - 1, url: new URL(seg.uri, this.playlistUrl).href });
    }
    this.ended = playlist.ended;
    return fresh;
  }

  get count(): number {
    return this.seen.size;
  }
}
