import {EXIT, hasExitCode} from '../errors.js'
import {type ControlEndpoint, type RequestOptions} from './client.js'
import {type PumaStats} from './stats.js'

export interface LiveEndpointWays {
  fetchStats(control: ControlEndpoint, options?: RequestOptions): Promise<PumaStats>
  /** The endpoint as its source says now; undefined when it has none to read again (a --control-url). */
  reread(stale: ControlEndpoint): Promise<ControlEndpoint | undefined>
}

/**
 * Puma's control server across a boot of the same master: unless the config pins them, a hot
 * restart brings a new token, and a bare activate_control_app a new socket. A refused token or
 * nothing listening (the exec window, or the old socket) sends ctl back to the endpoint's source
 * before that answer counts; the token itself never leaves the endpoint.
 */
export class LiveEndpoint {
  constructor(
    private endpoint: ControlEndpoint,
    private readonly ways: LiveEndpointWays,
  ) {}

  get current(): ControlEndpoint {
    return this.endpoint
  }

  /** Reads the endpoint again from its source; true when its URL or token changed. */
  async renew(): Promise<boolean> {
    const fresh = await this.ways.reread(this.endpoint)
    if (!fresh || (fresh.url === this.endpoint.url && fresh.token === this.endpoint.token)) return false
    this.endpoint = fresh
    return true
  }

  /** /stats; refused (403) or unreachable, asked once more at the endpoint its source names now, if that changed. */
  async stats(options?: RequestOptions): Promise<PumaStats> {
    try {
      return await this.ways.fetchStats(this.endpoint, options)
    } catch (error) {
      if (!mayHaveMoved(error) || options?.signal?.aborted || !(await this.renew())) throw error
      return this.ways.fetchStats(this.endpoint, options)
    }
  }
}

/** A refused token (exit 4) or nothing answering at the URL (exit 3): what a moved endpoint looks like. */
function mayHaveMoved(error: unknown): boolean {
  return hasExitCode(error, EXIT.notPermitted) || hasExitCode(error, EXIT.noMaster)
}
