/** A small well-formedness check for the SVG (and XHTML-ish) the CLI writes: balanced tags, quoted attributes, escaped text. */
export function xmlProblems(doc: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const body = doc.replace(/^<\?xml[^>]*\?>/, '').replace(/<!DOCTYPE[^>]*>/i, '');
  const re = /<[^<>]*>|[^<]+|</g;
  let m: RegExpExecArray | null;
  const voidHtml = new Set(['meta', 'br', 'link', 'img', 'hr', 'input']);
  while ((m = re.exec(body))) {
    const tok = m[0];
    if (tok === '<') {
      problems.push(`stray "<" at ${m.index}`);
      continue;
    }
    if (!tok.startsWith('<')) {
      if (/&(?!(amp|lt|gt|quot|#\d+|#x[0-9a-f]+);)/i.test(tok)) problems.push(`unescaped & in text near ${m.index}: ${tok.slice(0, 40)}`);
      continue;
    }
    if ((tok.match(/"/g) ?? []).length % 2 !== 0) problems.push(`unbalanced quotes in ${tok.slice(0, 60)}`);
    const name = /^<\/?([A-Za-z][\w:-]*)/.exec(tok)?.[1];
    if (!name) {
      problems.push(`bad tag ${tok.slice(0, 40)}`);
      continue;
    }
    if (tok.startsWith('</')) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
    } else if (!tok.endsWith('/>') && !voidHtml.has(name.toLowerCase())) stack.push(name);
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(', ')}`);
  return problems;
}
