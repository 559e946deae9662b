import ReactMarkdown, { type Components } from 'react-markdown';

/** Only http(s) links survive; anything else (javascript:, data:, …) becomes no link at all. */
export const safeUrl = (url: string): string => (/^https?:\/\//i.test(url.trim()) ? url : '');

const components: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  // Images would load from anywhere: show their text instead.
  img: ({ alt }) => <span>{alt ? `[image: ${alt}]` : '[image]'}</span>,
};

/** Untrusted Markdown: raw HTML is dropped, never rendered (no rehype-raw, skipHtml). */
export function Markdown({ children }: { children: string | null | undefined }) {
  if (!children) return null;
  return (
    <div className="markdown">
      <ReactMarkdown skipHtml urlTransform={safeUrl} components={components}>
        {children}
      </ReactMarkdown>
    </div>
  );
}
