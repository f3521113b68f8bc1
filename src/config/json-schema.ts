// The JSON Schema of the config file, generated from the zod schema, for editors: VS Code's YAML
// extension validates and completes a file that starts with
//   # yaml-language-server: $schema=./kamstrup-logger.schema.json
// `npm run schema` writes kamstrup-logger.schema.json; a test checks the committed file is current.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { configSchema } from './schema.js';

export const JSON_SCHEMA_FILE = 'kamstrup-logger.schema.json';

export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { target: 'draft-07', io: 'input' });
}

/** The file's exact text. */
export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(resolve(script)).href) process.stdout.write(renderConfigJsonSchema());
