// Fluent UI's charts (@fluentui/react-charts) get the width of their box once it is laid out:
// drawn into a box of no width (its first render) they make SVG of negative sizes.

import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';

export function Measured({ height, children, testId }: { height: number; children: (width: number) => ReactNode; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return undefined;
    setWidth(Math.floor(element.getBoundingClientRect().width));
    const observer = new ResizeObserver(([entry]) => setWidth(Math.floor(entry.contentRect.width)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return <div ref={box} style={{ width: '100%', minHeight: height }} data-testid={testId}>{width > 0 && children(width)}</div>;
}
