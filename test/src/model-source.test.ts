import { Issues, ModelSource, parseModelSource, SourceKind } from '../../src';

describe('model sources', () => {
  test.each<[string, SourceKind, string, string, string]>([
    ['hf://meta-llama/Meta-Llama-3-8B-Instruct', SourceKind.HUGGING_FACE, 'hf://meta-llama/Meta-Llama-3-8B-Instruct', 'meta-llama/Meta-Llama-3-8B-Instruct', ''],
    ['HF://TheBloke/Mistral-7B-GGUF', SourceKind.HUGGING_FACE, 'hf://TheBloke/Mistral-7B-GGUF', 'TheBloke/Mistral-7B-GGUF', ''],
    ['Hf://org/model', SourceKind.HUGGING_FACE, 'hf://org/model', 'org/model', ''],
    ['ollama://llama3:8b', SourceKind.OLLAMA, 'ollama://llama3:8b', 'llama3:8b', ''],
    ['file:///models/llama', SourceKind.FILE, 'file:///models/llama', '/models/llama', ''],
    ['pvc://models/llama3/8b', SourceKind.PVC, 'pvc://models/llama3/8b', 'models', 'llama3/8b'],
    ['pvc://models', SourceKind.PVC, 'pvc://models', 'models', ''],
  ])('%s', (uri, kind, normal, location, subPath) => {
    const s = ModelSource.parse(uri);
    expect([s.kind, s.uri, s.location, s.subPath]).toEqual([kind, normal, location, subPath]);
  });

  test('factories build the same values as URIs', () => {
    expect(ModelSource.huggingFace('org/model')).toEqual(ModelSource.parse('hf://org/model'));
    expect(ModelSource.ollama('llama3:8b')).toEqual(ModelSource.parse('ollama://llama3:8b'));
    expect(ModelSource.file('/m')).toEqual(ModelSource.parse('file:///m'));
    expect(ModelSource.pvc('models', '/llama3')).toEqual(ModelSource.parse('pvc://models/llama3'));
  });

  test.each([
    ['s3://bucket/model', "source 's3://bucket/model' has the unknown scheme 's3'. Use one of hf://org/model, ollama://model:tag, file:///path or pvc://claim/path."],
    ['meta-llama/Llama-3', "source 'meta-llama/Llama-3' is not a model source URI. Use one of hf://org/model, ollama://model:tag, file:///path or pvc://claim/path."],
    ['hf://llama', "source 'hf://llama' does not name a Hugging Face repository. Write hf://<org>/<model>, such as hf://meta-llama/Meta-Llama-3-8B-Instruct."],
    ['ollama://Llama 3', "source 'ollama://Llama 3' is not an Ollama model name. Write ollama://<model>:<tag>, such as ollama://llama3:8b."],
    ['file://models/x', "source 'file://models/x' is not an absolute path. Write file:///<absolute path>, such as file:///models/llama."],
    ['pvc://My_Claim/x', "source 'pvc://My_Claim/x' does not name a PersistentVolumeClaim. Write pvc://<claim-name>/<path>, such as pvc://models/llama3."],
  ])('%s is refused with the accepted form', (uri, message) => {
    const issues = new Issues('Model/m');
    expect(parseModelSource(issues, 'source', uri)).toBeUndefined();
    expect(() => issues.throwIfAny()).toThrow(`Unable to synthesize Model/m: ${message}`);
  });
});
