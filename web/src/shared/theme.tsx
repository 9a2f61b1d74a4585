// Light and dark theme: the user's choice is remembered in this browser (localStorage); until they
// choose, the console follows the operating system's preference, also when that changes.

import { Button, FluentProvider, Tooltip, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { WeatherMoonRegular, WeatherSunnyRegular } from '@fluentui/react-icons';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';

export type ThemeMode = 'light' | 'dark';

const STORAGE_KEY = 'sitepatch.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

function storedMode(): ThemeMode | null {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null;
  }
}

function systemMode(): ThemeMode {
  return typeof window.matchMedia === 'function' && window.matchMedia(DARK_QUERY).matches ? 'dark' : 'light';
}

const ThemeContext = createContext<{ mode: ThemeMode; setMode(mode: ThemeMode): void }>({ mode: 'light', setMode() {} });

export function useThemeMode() {
  return useContext(ThemeContext);
}

export function ThemeProvider({ children }: { children: ReactNode }) {
  const [chosen, setChosen] = useState<ThemeMode | null>(storedMode);
  const [system, setSystem] = useState<ThemeMode>(systemMode);
  useEffect(() => {
    if (typeof window.matchMedia !== 'function') return undefined;
    const query = window.matchMedia(DARK_QUERY);
    const onChange = () => setSystem(query.matches ? 'dark' : 'light');
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);
  const mode = chosen ?? system;
  useEffect(() => {
    // Scroll bars, form controls and the page behind the app follow the theme too.
    document.documentElement.style.colorScheme = mode;
    document.documentElement.dataset.theme = mode;
  }, [mode]);
  const setMode = (next: ThemeMode) => {
    setChosen(next);
    try { window.localStorage.setItem(STORAGE_KEY, next); } catch { /* private mode: the choice lasts this visit */ }
  };
  return (
    <ThemeContext.Provider value={{ mode, setMode }}>
      <FluentProvider theme={mode === 'dark' ? webDarkTheme : webLightTheme} style={{ minHeight: '100vh' }}>
        {children}
      </FluentProvider>
    </ThemeContext.Provider>
  );
}

/** The top bar's switch between the two themes. */
export function ThemeToggle({ className }: { className?: string }) {
  const { mode, setMode } = useThemeMode();
  const next: ThemeMode = mode === 'dark' ? 'light' : 'dark';
  const label = next === 'dark' ? 'Switch to dark theme' : 'Switch to light theme';
  return (
    <Tooltip content={label} relationship="label">
      <Button
        appearance="transparent"
        className={className}
        icon={mode === 'dark' ? <WeatherSunnyRegular /> : <WeatherMoonRegular />}
        onClick={() => setMode(next)}
        data-testid="theme-toggle"
        data-theme={mode}
      />
    </Tooltip>
  );
}
