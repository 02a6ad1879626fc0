/**
 * Text a person typed that we store and show: well-formed Unicode without
 * control characters. PostgreSQL refuses NUL in text (a 500 if it got that
 * far), a lone surrogate is not text, and control characters have no place
 * in a name or an address.
 */
export function isPrintableText(text: string): boolean {
  return text.isWellFormed() && !/\p{Cc}/u.test(text);
}
