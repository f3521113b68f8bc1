// Turns what a user typed into a register id: a catalogue name ("heat_energy"), the seed script's
// or Kamstrup's label ("MaxFlow_M", "E1"), a decimal id ("60") or a hex id ("0x3C").

import { registerCatalogue, registerById, type RegisterDefinition } from './catalogue.js';

export class UnknownRegisterError extends Error {
  override readonly name = 'UnknownRegisterError';
  readonly code = 'unknown-register';
  readonly input: string;
  readonly suggestions: readonly string[];

  constructor(input: string, suggestions: readonly string[], reason: string) {
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '';
    super(`unknown register "${input}": ${reason}${hint}`);
    this.input = input;
    this.suggestions = suggestions;
  }
}

const byName = new Map<string, RegisterDefinition>();
for (const d of registerCatalogue) {
  byName.set(d.name, d);
  byName.set(normalise(d.label), d);
}

function normalise(text: string): string {
  return text.trim().toLowerCase();
}

/** A register id: a catalogue entry where there is one, otherwise just the number. */
export interface RegisterRef {
  readonly id: number;
  readonly definition: RegisterDefinition | undefined;
}

export function resolveRegister(input: string): RegisterRef {
  const text = input.trim();
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
    const id = Number(text);
    if (id > 0xffff) throw new UnknownRegisterError(input, [], 'register ids are 16-bit numbers (0 … 65535)');
    return { id, definition: registerById(id) };
  }
  const definition = byName.get(normalise(text));
  if (definition) return { id: definition.id, definition };
  throw new UnknownRegisterError(input, nearestNames(text), 'not a catalogue name or a number');
}

/** Up to three catalogue names closest to the input, by edit distance. */
export function nearestNames(input: string, count = 3): string[] {
  const needle = normalise(input);
  const scored = registerCatalogue.map((d) => ({
    name: d.name,
    distance: Math.min(editDistance(needle, d.name), editDistance(needle, normalise(d.label))),
  }));
  const limit = Math.max(2, Math.floor(needle.length / 2));
  return scored
    .filter((s) => s.distance <= limit)
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((s) => s.name);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
