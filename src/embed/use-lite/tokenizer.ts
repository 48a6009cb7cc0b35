/**
 * SentencePiece unigram tokenizer for Universal Sentence Encoder Lite: a Viterbi search for the
 * highest-scoring segmentation over the model's vocabulary. Follows the tokenizer of
 * tfjs-models/universal-sentence-encoder (Copyright 2019 Google LLC, Apache-2.0).
 */
export type Vocabulary = Array<[piece: string, score: number]>;

const SEPARATOR = '\u2581';
/** The first ids are reserved (<unk>, <s>, </s>, …) and never produced by segmentation. */
const RESERVED = 6;

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Set when a vocabulary piece ends here. */
  piece?: { length: number; score: number; id: number };
}

export class SentencePieceTokenizer {
  private readonly root: TrieNode = { children: new Map() };

  constructor(vocabulary: Vocabulary) {
    for (let id = RESERVED; id < vocabulary.length; id++) {
      const [piece, score] = vocabulary[id]!;
      const symbols = [...piece];
      let node = this.root;
      for (const s of symbols) {
        let next = node.children.get(s);
        if (!next) {
          next = { children: new Map() };
          node.children.set(s, next);
        }
        node = next;
      }
      node.piece = { length: symbols.length, score, id };
    }
  }

  encode(input: string): number[] {
    const normalized = input.normalize('NFKC');
    if (normalized.length === 0) return [];
    const symbols = [...(SEPARATOR + normalized.replace(/ /g, SEPARATOR))];
    const n = symbols.length;
    // best[i]: best score of a segmentation of symbols[0, i); via[i]: id and length of its last piece.
    const best = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
    const viaId = new Int32Array(n + 1);
    const viaLen = new Int32Array(n + 1);
    best[0] = 0;
    for (let start = 0; start < n; start++) {
      if (best[start] === Number.NEGATIVE_INFINITY) continue;
      let node: TrieNode | undefined = this.root;
      let matched = false;
      for (let end = start; end < n && node; end++) {
        node = node.children.get(symbols[end]!);
        if (node?.piece) {
          matched = true;
          const score = best[start]! + node.piece.score;
          if (score >= best[end + 1]!) {
            best[end + 1] = score;
            viaId[end + 1] = node.piece.id;
            viaLen[end + 1] = end + 1 - start;
          }
        }
      }
      // An unknown symbol becomes <unk> (id 0) with score 0, as in the reference tokenizer.
      if (!matched && best[start]! >= best[start + 1]!) {
        best[start + 1] = best[start]!;
        viaId[start + 1] = 0;
        viaLen[start + 1] = 1;
      }
    }
    const ids: number[] = [];
    for (let i = n; i > 0; i -= viaLen[i]!) ids.push(viaId[i]!);
    ids.reverse();
    // Consecutive unknowns collapse into one.
    return ids.filter((id, i) => !(id === 0 && ids[i - 1] === 0));
  }
}
