/** The orders search results can come in: relevance, or one field with ties by relevance. */
export const SORT_ORDERS = ['relevance', 'discount', 'ending_soon', 'distance', 'newest'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];
