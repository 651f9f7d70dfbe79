import type { LiveStream } from './live-stream.js';
import type { StreamName } from './stream-name.js';

/**
 * Where a stream that nobody publishes in this process may come from: the edge's pull from its
 * upstream, or a worker's link to the worker that holds the publish. The hub asks it when a viewer
 * wants a stream that is not live; the source then publishes into the hub (`hub.publish`) like any
 * publisher. The origin configures none, so its viewers of a stream that is not live get a 404.
 */
/** What a viewer's request says that a source passes on upstream. */
export interface SourceRequest {
  /** The viewer's query string, `?…` or empty (credentials go upstream unchanged). */
  readonly query: string;
  /** The `Via` chain of proxies the request already crossed (loop detection between edges). */
  readonly via?: string;
}

export interface StreamSource {
  /**
   * Checked for every viewer's request, before it joins one under way: throws (a coded error)
   * to refuse this request alone, e.g. ERR_EDGE_LOOP for a pull that came back to this edge —
   * that one must not wait on the open it is itself part of.
   */
  admit?(name: StreamName, request: SourceRequest): void;
  /**
   * Starts providing `name`. Resolves once the source has it coming (the hub then waits for the
   * first frame); rejects with a coded error when it cannot, e.g. ERR_STREAM_NOT_FOUND when the
   * upstream has no such stream, so the viewer is told at once instead of waiting. Called once
   * per name at a time, however many viewers ask together; `request` is the first one's.
   */
  open(name: StreamName, request: SourceRequest): Promise<void>;
  /**
   * The number of subscribers of a stream changed (a viewer format's first viewer came or its
   * last left): a pull may release its upstream a while after the last one left.
   */
  subscribersChanged?(stream: LiveStream): void;
}
