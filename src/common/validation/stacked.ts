/**
 * One property decorator made of several, listed as they would be stacked on the field (`@A() @B()` runs B first),
 * so the validation and schema metadata come out in the same order as when written inline.
 */
export const stacked =
  (...decorators: Array<(target: object, key: string) => void>) =>
  (target: object, key: string): void => {
    for (const decorate of [...decorators].reverse()) decorate(target, key);
  };
