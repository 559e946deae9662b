import '@mantine/core/styles.css';
import './app.css';
import {
  type CSSVariablesResolver,
  createTheme,
  DEFAULT_THEME,
  darken,
  defaultVariantColorsResolver,
  luminance,
  MantineProvider,
  parseThemeColor,
  type VariantColorsResolver,
} from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App.tsx';
import { ApiError } from './api/client.ts';
import { AuthProvider } from './auth.tsx';

/** WCAG 2.x contrast ratio of two colours. */
function contrast(a: string, b: string) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The lightest of a palette's shades 6–9 whose contrast with `background` reaches WCAG AA for
 * normal text (4.5:1), or shade 9 darkened until it does (orange and yellow have no such shade).
 */
function readable(palette: readonly string[], background: string) {
  const shade = palette.slice(6).find((c) => contrast(c, background) >= 4.6);
  if (shade) return shade;
  let colour = palette[9]!;
  while (contrast(colour, background) < 4.6) colour = darken(colour, 0.05);
  return colour;
}

/**
 * Mantine's light scheme puts white text on shade 6 (indigo 4.32:1, red 3.28:1), shade 9 text on
 * shade 1 or 2 (orange 3.61:1, indigo 4.12:1) and grey 6 for dimmed text (3.32:1): all below WCAG AA. Here each
 * palette's filled colour is the lightest shade that white text reads on, and its "light" text the
 * lightest shade that reads on the light background.
 */
const FILLED: Record<string, string> = {};
const LIGHT_TEXT: Record<string, string> = {};
const TEXT: Record<string, string> = {};
const DARK_TEXT: Record<string, string> = {};
const GREY = DEFAULT_THEME.colors.gray;
const DARK = DEFAULT_THEME.colors.dark;
// The lightest surface text sits on in the dark scheme: a hovered row, button or input.
const DARK_SURFACE = DARK[5];

/** The darkest of a palette's shades 0–4 that reads on the dark scheme's surfaces (4.5:1). */
function readableOnDark(palette: readonly string[]) {
  return (
    [4, 3, 2, 1].map((shade) => palette[shade]!).find((c) => contrast(c, DARK_SURFACE) >= 4.6) ?? palette[0]!
  );
}

for (const [name, palette] of Object.entries(DEFAULT_THEME.colors)) {
  FILLED[name] = readable(palette, DEFAULT_THEME.white);
  // Shade 2 is the light background under the pointer (an active nav link hovered).
  LIGHT_TEXT[name] = readable(palette, palette[2]!);
  // Coloured text sits on white and on the pale grey of a hovered row or a page's backdrop.
  TEXT[name] = readable(palette, GREY[2]!);
  DARK_TEXT[name] = readableOnDark(palette);
}

/** Both schemes read at WCAG AA; the dark one follows the system's setting (defaultColorScheme). */
const cssVariablesResolver: CSSVariablesResolver = () => {
  const light: Record<string, string> = {
    '--mantine-color-dimmed': '#555d66',
    '--mantine-color-placeholder': '#6b7280',
    '--mantine-color-error': FILLED.red!,
    // Links sit on white and on the alerts' pale backgrounds too (orange 1: 5.7:1).
    '--mantine-color-anchor': DEFAULT_THEME.colors.indigo[9],
    '--mantine-primary-color-contrast': DEFAULT_THEME.white,
    '--vytis-focus-ring': '#1c3d6e',
    '--vytis-map-sea': '#dbe9f6',
    '--vytis-map-border': '#fff',
  };
  const dark: Record<string, string> = {
    // Mantine's dark dimmed text (dark 2) reads at 3.5:1 on an input; dark 1 at 5.6:1.
    '--mantine-color-dimmed': DARK[1]!,
    '--mantine-color-placeholder': DARK[2]!,
    '--mantine-color-error': DARK_TEXT.red!,
    '--mantine-color-anchor': DARK_TEXT.indigo!,
    '--mantine-primary-color-contrast': DEFAULT_THEME.white,
    '--vytis-focus-ring': DEFAULT_THEME.colors.indigo[2]!,
    '--vytis-map-sea': '#1b2a3a',
    '--vytis-map-border': DARK[7]!,
  };
  for (const name of Object.keys(FILLED)) {
    // White text on a filled colour reads the same in both schemes.
    for (const scheme of [light, dark]) {
      scheme[`--mantine-color-${name}-filled`] = FILLED[name]!;
      scheme[`--mantine-color-${name}-filled-hover`] = darken(FILLED[name]!, 0.1);
    }
    light[`--mantine-color-${name}-text`] = TEXT[name]!;
    light[`--mantine-color-${name}-outline`] = FILLED[name]!;
    light[`--mantine-color-${name}-light-color`] = LIGHT_TEXT[name]!;
    dark[`--mantine-color-${name}-text`] = DARK_TEXT[name]!;
    dark[`--mantine-color-${name}-outline`] = DARK_TEXT[name]!;
  }
  return { variables: {}, light, dark };
};

/** Filled palette colours are dark enough for white text: auto contrast keeps it white. */
const variantColorResolver: VariantColorsResolver = (input) => {
  const colours = defaultVariantColorsResolver(input);
  const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme });
  if (input.variant === 'filled' && parsed.isThemeColor && parsed.shade === undefined) {
    return { ...colours, color: 'var(--mantine-color-white)' };
  }
  return colours;
};

const theme = createTheme({
  primaryColor: 'indigo',
  variantColorResolver,
  // System fonts only: nothing is fetched from outside the node.
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif',
  fontFamilyMonospace: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace',
  defaultRadius: 'sm',
  // People who ask their system for less motion get dialogs and menus without it (WCAG 2.3.3).
  respectReducedMotion: true,
  components: {
    // A dialog's close button says what it does; its header is no second page banner (the app's
    // header is the banner landmark).
    Modal: { defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } },
    Drawer: { defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } },
    Alert: { defaultProps: { closeButtonLabel: 'Close' } },
    // A link in running text is told apart by more than its colour (WCAG 1.4.1).
    Anchor: { defaultProps: { underline: 'always' } },
    ModalHeader: { defaultProps: { component: 'div' } },
    DrawerHeader: { defaultProps: { component: 'div' } },
  },
});

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      refetchOnWindowFocus: false,
      // 4xx answers are final (not found is not found); retry only what may pass.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="auto">
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <AuthProvider>
            <App />
          </AuthProvider>
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
