import { completeCoupon, couponSchema, type Coupon, type CouponInput, type DiscountKind } from '../domain/coupon.ts';
import { pick, seededRandom } from '../util/random.ts';

/**
 * A seeded generator of a realistic coupon catalogue for demos, tests and benchmarks.
 *
 * Its distributions follow the real Ponpare catalogue (19,413 coupons, read from
 * ../shared/data/ponpare-coupons when these constants were chosen; no row of it is reproduced):
 * percent discounts cluster at 50 % with a tail to ~80 % (quantiles 5/25/50/75/95 % = 50/50/53/65/81),
 * validity windows have a median of 128 days (5 % = 44, 95 % = 179), and the category mix leans
 * on food, delivery, travel and beauty. Places are real city centres with stores scattered nearby.
 */
export interface CatalogueOptions {
  size: number;
  /** @defaultValue 42 */
  seed?: number;
  /** Validity windows are placed around this instant (some already expired). @defaultValue now */
  anchor?: Date;
}

export const SAMPLE_CITIES = [
  { name: 'New York', region: 'us-ny', lat: 40.7128, lon: -74.006 },
  { name: 'Chicago', region: 'us-il', lat: 41.8781, lon: -87.6298 },
  { name: 'San Francisco', region: 'us-ca', lat: 37.7749, lon: -122.4194 },
  { name: 'Austin', region: 'us-tx', lat: 30.2672, lon: -97.7431 },
  { name: 'Seattle', region: 'us-wa', lat: 47.6062, lon: -122.3321 },
  { name: 'Miami', region: 'us-fl', lat: 25.7617, lon: -80.1918 },
  { name: 'Denver', region: 'us-co', lat: 39.7392, lon: -104.9903 },
  { name: 'Boston', region: 'us-ma', lat: 42.3601, lon: -71.0589 },
] as const;

interface Offer {
  title: string;
  description: string;
  tags: string[];
  /** Typical list price in USD. */
  price: number;
}

interface CategorySpec {
  name: string;
  /** Relative share of the catalogue. */
  weight: number;
  online: 'never' | 'sometimes' | 'always';
  /** Merchants of a kind and the offers such a merchant makes. */
  groups: Array<{ merchants: string[]; offers: Offer[] }>;
}

const o = (title: string, description: string, tags: string[], price: number): Offer => ({ title, description, tags, price });

const CATEGORIES: CategorySpec[] = [
  {
    name: 'food',
    weight: 20,
    online: 'sometimes',
    groups: [
      {
        merchants: ["Tony's Pizzeria", 'Slice House', 'Napoli Oven', 'Brick Fire Pizza'],
        offers: [
          o('Large pepperoni pizza', 'Hand-tossed large pizza with pepperoni and mozzarella, baked in a stone oven.', ['pizza', 'dinner', 'takeout'], 22),
          o(
            'Two medium pizzas with garlic knots',
            'Pick any two medium pizzas and get a basket of garlic knots for the table.',
            ['pizza', 'family', 'takeout'],
            34,
          ),
          o('Margherita pizza for two', 'Wood-fired margherita pizza with fresh basil, plus two soft drinks.', ['pizza', 'dinner'], 26),
          o('Family pizza night bundle', 'Two large pizzas, a Caesar salad and a bottle of soda, ready for pickup.', ['pizza', 'family', 'takeout'], 45),
        ],
      },
      {
        merchants: ['Sakura Sushi', 'Tokyo Roll Bar'],
        offers: [
          o('Sushi platter for two', 'Chef-selected nigiri and maki platter with miso soup.', ['sushi', 'dinner'], 48),
          o('All-you-can-eat sushi lunch', 'Unlimited rolls and nigiri on weekday lunch seatings.', ['sushi', 'lunch'], 32),
        ],
      },
      {
        merchants: ['Burger Barn', 'Smokehouse BBQ', 'Taco Loco'],
        offers: [
          o('Double cheeseburger meal', 'Two smashed patties, fries and a shake.', ['burgers', 'lunch'], 16),
          o('BBQ brisket plate', 'Slow-smoked brisket with two sides and cornbread.', ['bbq', 'dinner'], 23),
          o('Taco Tuesday platter', 'Six street tacos with salsa bar and chips.', ['tacos', 'dinner'], 18),
        ],
      },
      {
        merchants: ['Pho Saigon', 'Curry Palace', 'Golden Wok', 'Bella Pasta'],
        offers: [
          o('Pho and spring rolls for two', 'Two bowls of beef pho with a plate of fresh spring rolls.', ['vietnamese', 'lunch'], 30),
          o('Chicken tikka masala dinner', 'Curry with basmati rice and garlic naan.', ['indian', 'dinner'], 24),
          o('Pasta night for two', 'Two fresh pasta dishes and a shared tiramisu.', ['italian', 'dinner'], 42),
          o('Dim sum brunch', 'Twelve dumplings and buns from the dim sum cart.', ['chinese', 'brunch'], 28),
        ],
      },
      {
        merchants: ['Green Bowl', 'Morning Brew Cafe', 'Sweet Crumbs Bakery'],
        offers: [
          o('Salad bowl and smoothie', 'Build-your-own salad bowl with any smoothie.', ['healthy', 'lunch'], 17),
          o('Coffee and pastry breakfast', 'Any espresso drink with a fresh croissant.', ['coffee', 'breakfast'], 9),
          o('Birthday cake, 8 inch', 'Custom-decorated layer cake, order two days ahead.', ['bakery', 'celebration'], 40),
        ],
      },
    ],
  },
  {
    name: 'groceries',
    weight: 8,
    online: 'sometimes',
    groups: [
      {
        merchants: ['FreshCart Market', 'Green Valley Grocers', 'Corner Organic', 'Harvest Co-op', 'DailyMart'],
        offers: [
          o('Weekly produce box', 'Seasonal fruit and vegetables from local farms, delivered to your door.', ['produce', 'delivery'], 35),
          o('Organic pantry staples', 'Savings on organic rice, pasta, beans and olive oil.', ['organic', 'pantry'], 50),
          o('Fresh seafood counter', 'Wild salmon and shrimp from the seafood counter.', ['seafood'], 30),
          o('Meal kit for four', 'Three dinners for four with recipes and pre-portioned ingredients.', ['meal kit', 'delivery'], 70),
        ],
      },
    ],
  },
  {
    name: 'automotive',
    weight: 6,
    online: 'never',
    groups: [
      {
        merchants: ['QuickLube Garage', 'Lube Express', 'Motor Masters'],
        offers: [
          o('Full synthetic oil change', 'Up to five quarts of full synthetic oil, new filter and a 21-point inspection.', ['oil change', 'maintenance'], 90),
          o('Oil and filter change', 'Conventional oil with filter replacement and fluid top-off, done in 20 minutes.', ['oil change', 'maintenance'], 50),
          o('Tire rotation and balance', 'Rotate and balance all four tires, pressure check included.', ['tires', 'maintenance'], 60),
        ],
      },
      {
        merchants: ['Midtown Auto Care', 'Precision Tire & Brake'],
        offers: [
          o('Brake pad replacement', 'Front or rear brake pads with a rotor inspection.', ['brakes', 'repair'], 180),
          o('Four-wheel alignment', 'Computerized alignment to manufacturer specifications.', ['alignment', 'repair'], 110),
          o('Tire rotation and balance', 'Rotate and balance all four tires, pressure check included.', ['tires', 'maintenance'], 60),
        ],
      },
      { merchants: ['Sparkle Wash'], offers: [o('Deluxe hand car wash', 'Exterior hand wash, wax and interior vacuum.', ['car wash', 'detailing'], 40)] },
    ],
  },
  {
    name: 'beauty',
    weight: 9,
    online: 'never',
    groups: [
      {
        merchants: ['Salon Bella', 'Urban Cuts', 'The Barber Room'],
        offers: [
          o("Women's haircut and blow-dry", 'Consultation, wash, precision cut and blow-dry styling.', ['haircut', 'hair salon'], 85),
          o("Men's haircut and beard trim", 'Classic cut, hot towel and beard shaping.', ['haircut', 'barber'], 45),
          o('Full colour and highlights', 'Single-process colour with partial highlights and toner.', ['hair colour', 'hair salon'], 160),
        ],
      },
      {
        merchants: ['Polished Nail Bar', 'Glow Skin Studio', 'Lash Lounge'],
        offers: [
          o('Gel manicure and pedicure', 'Long-lasting gel colour on hands and feet.', ['nails'], 75),
          o('Hydrating facial', 'Sixty-minute facial with cleansing, exfoliation and mask.', ['facial', 'skincare'], 120),
          o('Eyelash extensions, full set', 'Classic lash extensions applied by a certified stylist.', ['lashes'], 150),
        ],
      },
    ],
  },
  {
    name: 'spa',
    weight: 6,
    online: 'never',
    groups: [
      {
        merchants: ['Serenity Day Spa', 'Lotus Massage', 'Hot Stone Retreat', 'Calm Waters Spa'],
        offers: [
          o('Sixty-minute Swedish massage', 'Full-body relaxation massage with aromatherapy oils.', ['massage', 'relaxation'], 110),
          o('Couples massage', 'Side-by-side massage for two in a private suite.', ['massage', 'couples'], 220),
          o('Day spa package', 'Massage, facial and access to sauna and steam room.', ['spa day', 'relaxation'], 250),
          o('Reflexology session', 'Forty-five minutes of foot reflexology.', ['reflexology', 'relaxation'], 60),
        ],
      },
    ],
  },
  {
    name: 'fitness',
    weight: 5,
    online: 'sometimes',
    groups: [
      {
        merchants: ['Iron Temple Gym', 'Peak Climbing Gym'],
        offers: [
          o('One month gym membership', 'Unlimited gym floor access, lockers and showers.', ['gym', 'membership'], 60),
          o('Bouldering day pass with gear', 'Climbing day pass including shoes and chalk.', ['climbing'], 35),
        ],
      },
      {
        merchants: ['Zen Flow Yoga', 'CycleBeat Studio', 'Core Pilates Lab'],
        offers: [
          o('Ten-class yoga pass', 'Ten drop-in classes, all levels, mats provided.', ['yoga', 'classes'], 150),
          o('Indoor cycling intro pack', 'Five spin classes with shoe rental.', ['cycling', 'classes'], 90),
          o('Private Pilates session', 'One-on-one reformer session with an instructor.', ['pilates'], 95),
        ],
      },
    ],
  },
  {
    name: 'travel',
    weight: 10,
    online: 'always',
    groups: [
      {
        merchants: ['Harbor View Hotel', 'Mountain Lodge Resort', 'City Center Inn', 'Seaside Suites', 'Grand Plaza Hotel', 'Lakeside Cabins'],
        offers: [
          o('Weekend hotel stay for two', 'Two nights in a deluxe room with breakfast for two.', ['hotel', 'weekend'], 420),
          o('Ocean-view suite, one night', 'Suite with balcony, late checkout and welcome drinks.', ['hotel', 'beach'], 320),
          o('Ski lodge getaway', 'Three nights with lift-ticket discounts and hot tub access.', ['ski', 'resort'], 780),
          o('Lakeside cabin rental', 'Two-night cabin stay with kayaks included.', ['cabin', 'nature'], 380),
        ],
      },
    ],
  },
  {
    name: 'electronics',
    weight: 5,
    online: 'always',
    groups: [
      {
        merchants: ['GadgetHub', 'SoundWave Audio', 'PixelPoint', 'ChargeUp Store'],
        offers: [
          o('Wireless noise-cancelling headphones', 'Over-ear headphones with 30-hour battery life.', ['headphones', 'audio'], 250),
          o('Phone screen repair', 'Same-day screen replacement for most phone models.', ['repair', 'phones'], 150),
          o('4K streaming stick', 'Stream in 4K HDR with voice remote.', ['tv', 'streaming'], 50),
          o('Laptop tune-up', 'Cleaning, thermal paste renewal and software check.', ['laptop', 'repair'], 90),
        ],
      },
    ],
  },
  {
    name: 'fashion',
    weight: 5,
    online: 'always',
    groups: [
      {
        merchants: ['Threadline', 'Denim Depot', 'Sole Society Shoes', 'Urban Threads', 'Little Closet Kids'],
        offers: [
          o('Denim jeans, any style', 'Slim, straight or relaxed fit jeans in all washes.', ['jeans', 'clothing'], 80),
          o('Running shoes', 'Lightweight running shoes from top brands.', ['shoes', 'sportswear'], 120),
          o('Winter coat sale', 'Insulated parkas and wool coats.', ['coats', 'clothing'], 200),
          o('Kids back-to-school outfit', 'Shirt, pants and sneakers bundle for kids.', ['kids', 'clothing'], 70),
        ],
      },
    ],
  },
  {
    name: 'home',
    weight: 5,
    online: 'sometimes',
    groups: [
      {
        merchants: ['Sparkle Clean Co', 'HandyPro Repairs', 'Bright Spark Electric'],
        offers: [
          o('Deep house cleaning, 3 hours', 'Two cleaners, kitchen and bathrooms scrubbed, supplies included.', ['cleaning'], 180),
          o('Handyman hour', 'Furniture assembly, shelf mounting or small repairs.', ['handyman', 'repair'], 80),
          o('Carpet steam cleaning', 'Steam cleaning for up to three rooms.', ['cleaning', 'carpet'], 150),
        ],
      },
      {
        merchants: ['Cozy Nest Furniture', 'GreenThumb Garden Center'],
        offers: [
          o('Sofa and armchair set', 'Three-seat sofa with matching armchair.', ['furniture'], 1200),
          o('Garden plants and soil', 'Perennials, shrubs and potting soil.', ['garden'], 60),
        ],
      },
    ],
  },
  {
    name: 'entertainment',
    weight: 6,
    online: 'sometimes',
    groups: [
      {
        merchants: ['Starlight Cinema', 'Strike Zone Bowling', 'Escape Room HQ', 'Laugh Track Comedy Club', 'Funland Arcade'],
        offers: [
          o('Two movie tickets with popcorn', 'Any standard screening, large popcorn to share.', ['movies', 'date night'], 36),
          o('Bowling for four with shoe rental', 'Two hours of lanes for up to four players.', ['bowling', 'family'], 70),
          o('Escape room for six', 'Sixty-minute puzzle room for a team of six.', ['escape room', 'groups'], 180),
          o('Comedy night tickets', 'Two tickets to a Friday stand-up show.', ['comedy', 'nightlife'], 50),
          o('Arcade game card', 'Game card loaded with 200 credits.', ['arcade', 'kids'], 40),
        ],
      },
    ],
  },
  {
    name: 'health',
    weight: 4,
    online: 'never',
    groups: [
      {
        merchants: ['BrightSmile Dental', 'ClearView Optometry', 'Wellness Chiropractic', 'Family Care Clinic'],
        offers: [
          o('Dental cleaning and exam', 'Cleaning, X-rays and a dentist exam for new patients.', ['dental'], 250),
          o('Eye exam and glasses', 'Comprehensive eye exam with a pair of prescription glasses.', ['eye exam', 'glasses'], 300),
          o('Chiropractic adjustment', 'Consultation and first adjustment.', ['chiropractic'], 90),
          o('Annual physical', 'Checkup with blood panel.', ['checkup'], 200),
        ],
      },
    ],
  },
  {
    name: 'pets',
    weight: 3,
    online: 'sometimes',
    groups: [
      {
        merchants: ['Happy Paws Grooming', 'Pet Pantry', 'Doggy Daycare Club'],
        offers: [
          o('Full dog grooming', 'Bath, haircut, nail trim and ear cleaning.', ['grooming', 'dogs'], 75),
          o('Premium pet food', 'Grain-free dry food for dogs and cats.', ['pet food'], 60),
          o('Doggy daycare, five days', 'Five full days of supervised play.', ['daycare', 'dogs'], 150),
        ],
      },
    ],
  },
  {
    name: 'education',
    weight: 3,
    online: 'always',
    groups: [
      {
        merchants: ['Brushstroke Art Studio', 'Lingua Language School', 'Keys Music Academy', 'Code Camp'],
        offers: [
          o('Beginner painting workshop', 'Three-hour acrylic painting class, all materials included.', ['art', 'workshop'], 65),
          o('Spanish course, 8 weeks', 'Evening group classes for beginners.', ['languages', 'course'], 240),
          o('Four piano lessons', 'Private thirty-minute lessons for any age.', ['music', 'lessons'], 160),
          o('Intro to coding bootcamp', 'Weekend web development bootcamp.', ['coding', 'course'], 300),
        ],
      },
    ],
  },
];

export const SAMPLE_CATEGORIES = CATEGORIES.map((c) => c.name);

/** Percent-discount quantiles of the Ponpare catalogue (see header); sampled piecewise-uniformly. */
const PERCENT_QUANTILES = [
  [0, 30],
  [0.05, 50],
  [0.5, 50],
  [0.55, 53],
  [0.75, 65],
  [0.95, 81],
  [1, 90],
] as const;
/** Validity-window quantiles in days, same source. */
const VALIDITY_QUANTILES = [
  [0, 14],
  [0.05, 44],
  [0.25, 89],
  [0.5, 128],
  [0.75, 177],
  [1, 180],
] as const;

function fromQuantiles(rand: () => number, table: ReadonlyArray<readonly [number, number]>): number {
  const u = rand();
  for (let i = 1; i < table.length; i++) {
    const [p1, v1] = table[i]!,
      [p0, v0] = table[i - 1]!;
    if (u <= p1) return v0 + ((u - p0) / Math.max(p1 - p0, 1e-9)) * (v1 - v0);
  }
  return table.at(-1)![1];
}

interface Merchant {
  id: string;
  name: string;
  category: CategorySpec;
  offers: Offer[];
  city: (typeof SAMPLE_CITIES)[number];
  locations: Array<{ lat: number; lon: number }>;
  online: boolean;
}

function makeMerchants(rand: () => number, count: number): Merchant[] {
  const totalWeight = CATEGORIES.reduce((s, c) => s + c.weight, 0);
  const merchants: Merchant[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    // Spread categories by weight deterministically, so every category has merchants.
    let target = ((i + 0.5) / count) * totalWeight;
    const category = CATEGORIES.find((c) => (target -= c.weight) < 0) ?? CATEGORIES.at(-1)!;
    const names = category.groups.flatMap((g) => g.merchants.map((n) => ({ n, offers: g.offers })));
    const nth = seen.get(category.name) ?? 0;
    seen.set(category.name, nth + 1);
    const { n: base, offers } = names[nth % names.length]!;
    const city = SAMPLE_CITIES[Math.floor(rand() * SAMPLE_CITIES.length)]!;
    const branch = Math.floor(nth / names.length);
    const name = branch === 0 ? `${base}` : `${base} ${city.name}${branch > 1 ? ` ${branch}` : ''}`;
    const online = category.online === 'always' || (category.online === 'sometimes' && rand() < 0.3);
    const storeCount = category.online === 'always' && rand() < 0.5 ? 0 : 1 + Math.floor(rand() * 3);
    // Stores within ~10 km of the city centre.
    const locations = Array.from({ length: storeCount }, () => ({
      lat: round5(city.lat + (rand() - 0.5) * 0.18),
      lon: round5(city.lon + (rand() - 0.5) * 0.22),
    }));
    merchants.push({ id: `m-${String(i + 1).padStart(4, '0')}`, name, category, offers, city, locations, online: online || locations.length === 0 });
  }
  return merchants;
}

/** Generates `size` coupons; the same options always give the same catalogue. */
export function generateCatalogue(options: CatalogueOptions): Coupon[] {
  const rand = seededRandom(options.seed ?? 42);
  const anchor = (options.anchor ?? new Date()).getTime();
  const merchants = makeMerchants(rand, Math.max(150, Math.round(options.size / 14)));
  const DAY = 86_400_000;
  const coupons: Coupon[] = [];
  for (let i = 0; i < options.size; i++) {
    const m = merchants[i % merchants.length]!;
    const offer = pick(rand, m.offers);
    const kind = pickKind(rand, m.category.name);
    const percent = Math.round(fromQuantiles(rand, PERCENT_QUANTILES));
    const price = round2(offer.price * (0.7 + rand() * 0.6));
    const amount = Math.max(5, Math.round((price * percent) / 100 / 5) * 5);
    const validDays = Math.round(fromQuantiles(rand, VALIDITY_QUANTILES));
    // About one in eight windows has already closed; some have not opened yet.
    const startOffsetDays = rand() < 0.12 ? -validDays - 1 - rand() * 60 : rand() < 0.05 ? 1 + rand() * 20 : -rand() * validDays * 0.8;
    const validFrom = anchor + startOffsetDays * DAY;
    const discount = kind === 'percent' ? { kind, value: percent } : kind === 'amount' ? { kind, value: amount } : { kind, value: 0 };
    const finalPrice = kind === 'percent' ? round2(price * (1 - percent / 100)) : kind === 'amount' ? round2(Math.max(0, price - amount)) : undefined;
    const input: CouponInput = {
      id: `cpn-${String(i + 1).padStart(6, '0')}`,
      merchant: { id: m.id, name: m.name },
      title: kind === 'bogo' ? `Buy one, get one: ${lowerFirst(offer.title)}` : offer.title,
      description: `${offer.description} Valid at ${m.name}${m.locations.length ? ` in ${m.city.name}` : ' online'}.`,
      categories: [m.category.name],
      tags: offer.tags,
      discount,
      original_price: price,
      ...(finalPrice !== undefined ? { final_price: finalPrice } : {}),
      currency: 'USD',
      valid_from: new Date(validFrom).toISOString(),
      valid_until: new Date(validFrom + validDays * DAY).toISOString(),
      usable_weekdays: rand() < 0.2 ? ['mon', 'tue', 'wed', 'thu', 'fri'] : ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      locations: m.locations,
      online: m.online,
      region: m.city.region,
      sponsored_boost: rand() < 0.05 ? round2(0.2 + rand() * 0.5) : 0,
      status: rand() < 0.03 ? 'paused' : 'active',
      updated_at: new Date(anchor - Math.floor(rand() * 30) * DAY).toISOString(),
    };
    coupons.push(completeCoupon(couponSchema.parse(input)));
  }
  return coupons;
}

function pickKind(rand: () => number, category: string): DiscountKind {
  const u = rand();
  if (category === 'fashion' || category === 'electronics') return u < 0.5 ? 'percent' : u < 0.8 ? 'amount' : 'free_shipping';
  if (category === 'food') return u < 0.6 ? 'percent' : u < 0.8 ? 'amount' : u < 0.95 ? 'bogo' : 'free_item';
  return u < 0.65 ? 'percent' : u < 0.92 ? 'amount' : 'bogo';
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round5 = (x: number) => Math.round(x * 1e5) / 1e5;
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
