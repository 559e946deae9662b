/** Great-circle distance in km (haversine, mean Earth radius). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Hours to get there: by road under 300 km (80 km/h), else by air (700 km/h) plus 4 h for getting
 * to and through airports. An estimate for ranking, stated so people can check it.
 */
export function travelHours(km: number): number {
  if (km < 300) return km / 80;
  return 4 + km / 700;
}

/** Capitals of the parties (EU: Brussels), where on-site help goes when a request names no place. */
export const CAPITALS: Record<string, { city: string; lat: number; lon: number }> = {
  AT: { city: 'Vienna', lat: 48.21, lon: 16.37 },
  BE: { city: 'Brussels', lat: 50.85, lon: 4.35 },
  BG: { city: 'Sofia', lat: 42.7, lon: 23.32 },
  CY: { city: 'Nicosia', lat: 35.17, lon: 33.36 },
  CZ: { city: 'Prague', lat: 50.08, lon: 14.44 },
  DE: { city: 'Berlin', lat: 52.52, lon: 13.4 },
  DK: { city: 'Copenhagen', lat: 55.68, lon: 12.57 },
  EE: { city: 'Tallinn', lat: 59.44, lon: 24.75 },
  ES: { city: 'Madrid', lat: 40.42, lon: -3.7 },
  EU: { city: 'Brussels', lat: 50.85, lon: 4.35 },
  FI: { city: 'Helsinki', lat: 60.17, lon: 24.94 },
  FR: { city: 'Paris', lat: 48.86, lon: 2.35 },
  GR: { city: 'Athens', lat: 37.98, lon: 23.73 },
  HR: { city: 'Zagreb', lat: 45.81, lon: 15.98 },
  HU: { city: 'Budapest', lat: 47.5, lon: 19.04 },
  IE: { city: 'Dublin', lat: 53.35, lon: -6.26 },
  IT: { city: 'Rome', lat: 41.9, lon: 12.5 },
  LT: { city: 'Vilnius', lat: 54.69, lon: 25.28 },
  LU: { city: 'Luxembourg', lat: 49.61, lon: 6.13 },
  LV: { city: 'Riga', lat: 56.95, lon: 24.11 },
  MD: { city: 'Chișinău', lat: 47.01, lon: 28.86 },
  MT: { city: 'Valletta', lat: 35.9, lon: 14.51 },
  NL: { city: 'Amsterdam', lat: 52.37, lon: 4.9 },
  PL: { city: 'Warsaw', lat: 52.23, lon: 21.01 },
  PT: { city: 'Lisbon', lat: 38.72, lon: -9.14 },
  RO: { city: 'Bucharest', lat: 44.43, lon: 26.1 },
  SE: { city: 'Stockholm', lat: 59.33, lon: 18.07 },
  SI: { city: 'Ljubljana', lat: 46.06, lon: 14.51 },
  SK: { city: 'Bratislava', lat: 48.15, lon: 17.11 },
  UA: { city: 'Kyiv', lat: 50.45, lon: 30.52 },
};
