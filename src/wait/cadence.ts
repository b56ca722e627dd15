/**
 * A pause that starts short and grows while nothing happens: for a source that can only be asked
 * (Puma's /stats), quick when something is going on, and rare when it is quiet. Asking /stats has
 * a cost beyond the request: on Puma 7.0+ every call resets backlog_max and reactor_max, which the
 * user's own monitoring reads.
 */
export class Cadence {
  private current: number

  constructor(
    private readonly fastestMs: number,
    private readonly slowestMs: number,
    private readonly growth = 1.5,
  ) {
    this.current = fastestMs
  }

  /** The pause before the next look; the one after it is longer, up to the slowest. */
  next(): number {
    const pause = this.current
    this.current = Math.min(this.slowestMs, Math.round(this.current * this.growth))
    return pause
  }

  /** Something changed: the next change is likely soon (the next worker of a phased restart). */
  quicken(): void {
    this.current = this.fastestMs
  }
}
