/**
 * The sample catalogue's categories: their share of the catalogue, whether they sell online, and
 * the merchants and offers of each kind (titles, descriptions, tags and typical list prices).
 */
export interface Offer {
  title: string;
  description: string;
  tags: string[];
  /** Typical list price in USD. */
  price: number;
}

export interface CategorySpec {
  name: string;
  /** Relative share of the catalogue. */
  weight: number;
  online: 'never' | 'sometimes' | 'always';
  /** Merchants of a kind and the offers such a merchant makes. */
  groups: Array<{ merchants: string[]; offers: Offer[] }>;
}

const o = (title: string, description: string, tags: string[], price: number): Offer => ({ title, description, tags, price });

export const CATEGORIES: CategorySpec[] = [
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
