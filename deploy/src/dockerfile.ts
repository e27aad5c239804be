/**
 * A Dockerfile parser, enough to check ours and replay its steps: comments,
 * `\` line continuations, instruction flags (`--from=build`), JSON (exec)
 * form, stages. Written from the Dockerfile reference.
 */
export interface Instruction {
  /** Upper-cased: FROM, RUN, COPY, … */
  keyword: string;
  /** `--name=value` flags, in order of appearance. */
  flags: Record<string, string>;
  /** The rest of the line, continuations joined with a space. */
  raw: string;
  /** Exec form (`["a", "b"]`) parsed; otherwise the raw text split on white space. */
  args: string[];
  /** Whether the arguments were in JSON (exec) form. */
  json: boolean;
  line: number;
}

export interface Stage {
  /** The `AS` name, if any. */
  name: string | undefined;
  image: string;
  instructions: Instruction[];
}

export class DockerfileError extends Error {}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const start = i + 1;
    // A trailing backslash continues the instruction; comment lines inside it are dropped.
    while (line.endsWith('\\')) {
      line = line.slice(0, -1).trimEnd();
      i++;
      while (i < lines.length && lines[i]!.trim().startsWith('#')) i++;
      if (i >= lines.length) throw new DockerfileError(`line ${start}: the file ends inside a continued line`);
      line += ` ${lines[i]!.trim()}`;
    }
    const match = /^([A-Za-z]+)\s*(.*)$/.exec(line);
    if (!match) throw new DockerfileError(`line ${start}: not an instruction: ${line}`);
    let rest = match[2]!;
    const flags: Record<string, string> = {};
    for (;;) {
      const flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
      if (!flag) break;
      flags[flag[1]!] = flag[2] ?? 'true';
      rest = rest.slice(flag[0].length);
    }
    let args: string[];
    let json = false;
    if (rest.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(rest);
        if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error('not an array of strings');
        args = parsed;
        json = true;
      } catch (err) {
        throw new DockerfileError(`line ${start}: invalid exec form: ${(err as Error).message}`);
      }
    } else {
      args = rest.split(/\s+/).filter(Boolean);
    }
    out.push({ keyword: match[1]!.toUpperCase(), flags, raw: rest, args, json, line: start });
  }
  return out;
}

/** Splits instructions into build stages (each begins with FROM). */
export function stages(instructions: Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.args;
      if (!image) throw new DockerfileError(`line ${ins.line}: FROM without an image`);
      out.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (out.length > 0) {
      out[out.length - 1]!.instructions.push(ins);
    } else if (ins.keyword !== 'ARG') {
      throw new DockerfileError(`line ${ins.line}: ${ins.keyword} before the first FROM`);
    }
  }
  return out;
}

/** `ENV a=b c=d` (or the old `ENV a b`) as a map. */
export function envOf(ins: Instruction): Record<string, string> {
  const env: Record<string, string> = {};
  if (!ins.raw.includes('=')) {
    const [key, ...value] = ins.args;
    if (key) env[key] = value.join(' ');
    return env;
  }
  for (const pair of ins.args) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
  }
  return env;
}
