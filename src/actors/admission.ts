// Admission of workflow runs: at most `maxRunningWorkflows` execute at once, the others wait their turn in order.

/** At most `limit` holders at once (0: no limit); the others wait in arrival order. */
export function createAdmission(limit: number): { enter(): Promise<void>; leave(): void } {
  let inside = 0;
  const waiting: Array<() => void> = [];
  return {
    enter() {
      if (limit <= 0 || inside < limit) {
        inside += 1;
        return Promise.resolve();
      }
      return new Promise((admit) => waiting.push(admit));
    },
    leave() {
      const next = waiting.shift();
      // The slot passes straight to the next in line.
      if (next) next();
      else inside -= 1;
    },
  };
}
