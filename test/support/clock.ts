/** A clock a test hands to the app under test (`BootOptions.slaClock`) and moves forward instead of waiting. */
export class MovableClock {
  private offsetMs = 0;

  /** The clock's reading: the wall clock plus how far the test moved it. */
  readonly now = (): number => Date.now() + this.offsetMs;

  /**
   * Moves the clock on to `at`, unless it reads later already: it never goes back, so tests running
   * side by side each move it past their own instant without undoing another's move.
   */
  advanceTo(at: Date): void {
    this.offsetMs = Math.max(this.offsetMs, at.getTime() - Date.now());
  }
}
