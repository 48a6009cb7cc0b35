import { z } from 'zod';
import { idSchema } from '../domain/coupon.ts';
import { conjuncts, type Filter, filterSchema } from '../domain/filter.ts';
import { DefinitionCache } from '../definitions/definition-cache.ts';
import type { DefinitionStore } from '../definitions/definition-store.ts';
import type { Logger } from '../log.ts';
import { normalisePhrase } from '../text/tokenize.ts';

/**
 * A merchandising rule: when a search matches its condition (the query, and optionally the filter
 * context it runs in) during its validity window, its consequences apply after ranking: coupons
 * pinned at positions, coupons hidden, coupons matching a filter boosted (or buried, with a
 * negative weight). Example:
 *   {"condition": {"query": {"contains": "pizza"}, "filter": {"category": ["food"]}},
 *    "consequence": {"pin": [{"id": "cpn-1", "position": 1}], "hide": ["cpn-9"],
 *                    "boost": [{"filter": {"merchant": ["m-tonys"]}, "weight": 0.5}]},
 *    "active_from": "2026-12-04T17:00:00Z", "active_until": "2026-12-06T23:00:00Z",
 *    "description": "Friday pizza campaign"}
 */
const phrase = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2026-12-04T17:00:00Z' });

export const MAX_PIN_POSITION = 100;

const querySchema = z.union([z.strictObject({ exact: phrase }), z.strictObject({ contains: phrase }), z.strictObject({ any: z.literal(true) })], {
  error: 'must be {"exact": "…"}, {"contains": "…"} or {"any": true}',
});

export const ruleSchema = z
  .strictObject({
    condition: z.strictObject({
      query: querySchema,
      /** The filter context: the rule fires only in searches filtered inside every one of its nodes (see `holds`). */
      filter: filterSchema.optional(),
    }),
    consequence: z
      .strictObject({
        pin: z
          .array(z.strictObject({ id: idSchema, position: z.number().int().min(1).max(MAX_PIN_POSITION) }))
          .max(50)
          .optional(),
        hide: z.array(idSchema).max(500).optional(),
        boost: z
          .array(z.strictObject({ filter: filterSchema, weight: z.number().min(-10).max(10) }))
          .max(20)
          .optional(),
      })
      .refine((c) => (c.pin?.length ?? 0) + (c.hide?.length ?? 0) + (c.boost?.length ?? 0) > 0, 'needs at least one pin, hide or boost'),
    active_from: isoDate.optional(),
    active_until: isoDate.optional(),
    description: z.string().max(500).optional(),
  })
  .refine((r) => !r.active_from || !r.active_until || Date.parse(r.active_until) > Date.parse(r.active_from), {
    message: 'must be after active_from',
    path: ['active_until'],
  });

export type RuleBody = z.output<typeof ruleSchema>;
export type Rule = RuleBody & { id: string; updated_at: string };

/** The rules in force, compiled into the rule book the search path matches against. */
export type Rules = DefinitionCache<RuleBody, RuleBook>;

export function ruleCache(store: DefinitionStore, logger: Logger): Rules {
  return new DefinitionCache<RuleBody, RuleBook>(store, 'rules', (rules) => new RuleBook(rules), logger);
}

/** What a search offers a rule to match on. */
export interface RuleContext {
  /** The query as typed, and as corrected when typo tolerance changed it. */
  queries: readonly string[];
  filter: Filter | undefined;
  now: Date;
}

interface CompiledRule {
  rule: Rule;
  from: number;
  until: number;
  /** A "contains" rule's phrase, normalised and padded with spaces (word-bounded matching). */
  phrase?: string;
  /** Its filter context's conjuncts, each of which the search's filter must hold (list nodes: every value). */
  context: Filter[];
}

/**
 * The rules compiled for the search path: exact-query rules by their normalised query, "contains"
 * rules by the first word of their phrase (only rules whose first word is in the query get a
 * substring test), "any" rules always; so a thousand rules cost a few map probes per search.
 */
export class RuleBook {
  private readonly exact = new Map<string, CompiledRule[]>();
  private readonly containsByFirstWord = new Map<string, CompiledRule[]>();
  private readonly always: CompiledRule[] = [];
  readonly size: number;

  constructor(rules: readonly Rule[]) {
    for (const rule of rules) {
      const compiled: CompiledRule = {
        rule,
        from: rule.active_from ? Date.parse(rule.active_from) : Number.NEGATIVE_INFINITY,
        until: rule.active_until ? Date.parse(rule.active_until) : Number.POSITIVE_INFINITY,
        context: conjuncts(rule.condition.filter),
      };
      const q = rule.condition.query;
      const add = (map: Map<string, CompiledRule[]>, key: string) => map.set(key, [...(map.get(key) ?? []), compiled]);
      if ('exact' in q) add(this.exact, normalisePhrase(q.exact));
      else if ('contains' in q) {
        const phrase = normalisePhrase(q.contains);
        compiled.phrase = ` ${phrase} `;
        add(this.containsByFirstWord, phrase.split(' ')[0]!);
      } else this.always.push(compiled);
    }
    this.size = rules.length;
  }

  /** The rules that fire for a search, in id order. */
  match(ctx: RuleContext): Rule[] {
    const t = ctx.now.getTime();
    const queries = [...new Set(ctx.queries.map(normalisePhrase))];
    const padded = queries.map((q) => ` ${q} `);
    const searchNodes = conjuncts(ctx.filter);
    const fired = new Map<string, Rule>();
    const consider = (c: CompiledRule) => {
      if (t < c.from || t >= c.until || !c.context.every((node) => holds(searchNodes, node))) return;
      fired.set(c.rule.id, c.rule);
    };
    for (const q of queries) for (const c of this.exact.get(q) ?? []) consider(c);
    const words = new Set(queries.flatMap((q) => q.split(' ')));
    for (const word of words) for (const c of this.containsByFirstWord.get(word) ?? []) if (padded.some((q) => q.includes(c.phrase!))) consider(c);
    for (const c of this.always) consider(c);
    return [...fired.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}

/**
 * Whether the search runs inside a context node: its filter has a node of the same field whose
 * values all lie among the context's (a search filtered to "food" is inside a rule's
 * ["food", "drinks"], one filtered to ["food", "spa"] is not inside ["food"]); a node that is not
 * a list must be the same.
 */
function holds(searchNodes: readonly Filter[], node: Filter): boolean {
  const [key, value] = Object.entries(node)[0]!;
  return searchNodes.some((s) => {
    const [k, v] = Object.entries(s)[0]!;
    if (k !== key) return false;
    if (Array.isArray(value) && Array.isArray(v)) return v.length > 0 && v.every((x) => (value as unknown[]).includes(x));
    return JSON.stringify(v) === JSON.stringify(value);
  });
}
