// Names shared by the extension and its manifest (test/manifest.test.ts keeps package.json in step).

/** Model files the server is told about when they change (and that activate the extension). */
export const MODEL_EXTENSIONS = [
    'bin',
    'pt',
    'pth',
    'ckpt',
    'pkl',
    'joblib',
    'npy',
    'npz',
    'h5',
    'keras',
    'gguf',
    'onnx',
    'safetensors',
];
export const MODEL_FILES = `**/*.{${MODEL_EXTENSIONS.join(',')}}`;

/** Commands the language server executes (workspace/executeCommand). */
export const SERVER_COMMANDS = ['malhug.scanWorkspace', 'malhug.clearCache', 'malhug.showReport'];

/** Commands the extension itself implements. */
export const CLIENT_COMMANDS = ['malhug.showOutput', 'malhug.restartServer'];
