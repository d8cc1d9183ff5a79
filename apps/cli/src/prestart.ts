/**
 * Whether a command line starts the seed experiment's net workers ahead (main.ts; see @xs/crossstitch/prestart).
 * Imports nothing of the program, so that main.ts can decide before loading it.
 */

/**
 * Whether this command line will most likely train the seed experiment's nets in worker threads (the decision
 * itself is runSeedExperiment's, which stops unused workers): `train` of the seed variant, not for help, on the
 * CPU backend or `auto`, with two or more cores, XS_PARALLEL not 0.
 * @example trainsNetsSideBySide(['train', '--epochs', '1,1,1'], {}, 2) // true
 */
export function trainsNetsSideBySide(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, cores: number): boolean {
  if (argv[0] !== 'train' || argv.includes('--help') || argv.includes('-h') || env.XS_PARALLEL === '0') return false;
  const option = (name: string): string | undefined => {
    const at = argv.indexOf(`--${name}`);
    if (at >= 0) return argv[at + 1];
    return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  if ((option('variant') ?? 'seed') !== 'seed') return false;
  if ((option('backend') ?? env.XS_BACKEND) === 'gpu') return false;
  return cores >= 2;
}
