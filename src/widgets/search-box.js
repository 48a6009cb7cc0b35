// <coupon-search>: the second part of /widgets/v1.js (after coupon-list.js, whose CouponList,
// escapeHtml and STYLE it uses), and its registration.

/**
 * A search box with instant results (debounced), autocomplete and filters. The box is an ARIA
 * combobox over GET /v1/suggest: ArrowDown/ArrowUp move through the suggestions, Enter takes
 * one, Escape closes the list. The filters — category (attribute `categories`, a comma list,
 * seeds the menu), minimum discount, and distance when lat/lon are known — show how many
 * coupons each choice leaves (the search's facet counts).
 */
class CouponSearch extends CouponList {
  static observedAttributes = [...CouponList.observedAttributes, 'categories', 'q'];

  controls() {
    return `<form class="bar" role="search">
      <span class="combo"><label>Search coupons<input name="q" type="search" autocomplete="off" placeholder="e.g. half price pizza"
        role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="suggestions"></label><ul id="suggestions" role="listbox" aria-label="Suggestions" hidden></ul></span>
      <label>Category<select name="category"><option value="">Any</option></select></label>
      <label>Minimum discount<select name="min_discount"><option value="">Any</option><option value="10">10%</option><option value="25">25%</option><option value="50">50%</option><option value="75">75%</option></select></label>
      <label>Distance<select name="radius_km"><option value="">Any</option><option value="1">1 km</option><option value="5">5 km</option><option value="25">25 km</option></select></label>
    </form>`;
  }

  connectedCallback() {
    const form = this.root.querySelector('form');
    this.fillCategories();
    if (this.getAttribute('q')) form.q.value = this.getAttribute('q');
    let timer;
    form.addEventListener('input', (e) => {
      clearTimeout(timer);
      timer = setTimeout(() => this.load(), 250);
      if (e.target === form.q) this.suggest();
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearTimeout(timer);
      this.closeSuggestions();
      this.load();
    });
    form.q.addEventListener('keydown', (e) => this.onKey(e, () => clearTimeout(timer)));
    form.q.addEventListener('blur', () => setTimeout(() => this.closeSuggestions(), 150));
    this.load();
  }

  attributeChangedCallback(name) {
    if (name === 'categories') this.fillCategories();
    else if (this.isConnected) this.load();
  }

  fillCategories() {
    this.categoryNames = (this.getAttribute('categories') || '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    this.showCounts({});
  }

  url() {
    const form = this.root.querySelector('form');
    const q = form.q.value.trim();
    if (!q) return undefined;
    const p = this.params({ q, user_id: this.userId });
    for (const name of ['category', 'min_discount']) if (form[name].value) p.set(name, form[name].value);
    // Distance needs a location: without lat/lon the menu is ignored rather than failing the search.
    if (form.radius_km.value && p.has('lat')) p.set('radius_km', form.radius_km.value);
    p.set('facets', p.has('lat') ? 'category,discount,distance' : 'category,discount');
    return `${this.api}/v1/search?${p}`;
  }

  render(body) {
    super.render(body);
    this.showCounts(body.facets || {});
  }

  /** Each filter choice with the number of coupons it leaves ("food (12)"); the selection stays. */
  showCounts(facets) {
    const form = this.root.querySelector('form');
    const count = (facet, value) => facets[facet]?.find((v) => v.value === value)?.count;
    const label = (text, n) => (n === undefined ? text : `${text} (${n})`);
    const selected = form.category.value;
    const names = [...new Set([...(this.categoryNames || []), ...(facets.category || []).map((v) => v.value), ...(selected ? [selected] : [])])];
    form.category.innerHTML = `<option value="">Any</option>${names.map((n) => `<option value="${escapeHtml(n)}">${escapeHtml(label(n, count('category', n) ?? (facets.category ? 0 : undefined)))}</option>`).join('')}`;
    form.category.value = selected;
    for (const [select, facet, unit] of [
      [form.min_discount, 'discount', '%'],
      [form.radius_km, 'distance', ' km'],
    ]) {
      for (const option of select.options) if (option.value) option.textContent = label(`${option.value}${unit}`, count(facet, option.value));
    }
  }

  /** Suggestions for what is typed so far (debounced; the latest request wins). */
  suggest() {
    clearTimeout(this.suggestTimer);
    this.suggestTimer = setTimeout(async () => {
      const q = this.root.querySelector('form').q.value.trim();
      const no = (this.suggestNo = (this.suggestNo || 0) + 1);
      if (!q) return this.closeSuggestions();
      const p = new URLSearchParams({ q, limit: '6' });
      if (this.getAttribute('api-key')) p.set('api_key', this.getAttribute('api-key'));
      try {
        const res = await fetch(`${this.api}/v1/suggest?${p}`, { headers: { accept: 'application/json' }, mode: 'cors' });
        const body = await res.json();
        if (no === this.suggestNo && res.ok) this.showSuggestions(body.suggestions || []);
      } catch {
        this.closeSuggestions(); // autocomplete is a convenience: search still works without it
      }
    }, 120);
  }

  showSuggestions(items) {
    const list = this.root.querySelector('#suggestions');
    const input = this.root.querySelector('form').q;
    this.suggestions = items;
    this.active = -1;
    list.innerHTML = items
      .map(
        (s, i) =>
          `<li id="suggestion-${i}" role="option" aria-selected="false" data-i="${i}">${escapeHtml(s.text)} <span class="kind">${escapeHtml(s.kind)} · ${s.count}</span></li>`,
      )
      .join('');
    list.hidden = items.length === 0;
    input.setAttribute('aria-expanded', String(items.length > 0));
    input.removeAttribute('aria-activedescendant');
    for (const li of list.querySelectorAll('li')) {
      li.addEventListener('mousedown', (e) => {
        e.preventDefault(); // keeps the focus in the box
        this.choose(Number(li.dataset.i));
      });
    }
  }

  closeSuggestions() {
    clearTimeout(this.suggestTimer);
    this.suggestNo = (this.suggestNo || 0) + 1;
    this.showSuggestions([]);
  }

  onKey(e, cancelSearch) {
    const open = this.suggestions?.length > 0;
    if (e.key === 'Escape' && open) {
      e.preventDefault();
      this.closeSuggestions();
    } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && open) {
      e.preventDefault();
      const n = this.suggestions.length;
      this.active = e.key === 'ArrowDown' ? (this.active + 1) % n : (this.active - 1 + n) % n;
      const items = this.root.querySelectorAll('#suggestions li');
      items.forEach((li, i) => li.setAttribute('aria-selected', String(i === this.active)));
      this.root.querySelector('form').q.setAttribute('aria-activedescendant', `suggestion-${this.active}`);
    } else if (e.key === 'Enter' && open && this.active >= 0) {
      e.preventDefault();
      cancelSearch();
      this.choose(this.active);
    }
  }

  /** Takes a suggestion: its text becomes the query, and the search runs. */
  choose(i) {
    const item = this.suggestions?.[i];
    if (!item) return;
    this.root.querySelector('form').q.value = item.text;
    this.closeSuggestions();
    this.dispatchEvent(new CustomEvent('coupon-suggestion', { bubbles: true, composed: true, detail: item }));
    this.load();
  }
}

if (!customElements.get('coupon-search')) customElements.define('coupon-search', CouponSearch);

export { CouponSearch };
