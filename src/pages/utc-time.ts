/** "2026-12-03 14:05 UTC": one zone for everyone, said so. */
export const when = (date: Date | string) =>
  `${new Date(date).toISOString().slice(0, 16).replace("T", " ")} UTC`;
