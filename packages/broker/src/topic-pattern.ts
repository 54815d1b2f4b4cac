/** AMQP topic matching (`*` = exactly one word, `#` = zero or more words), for the in-process broker. */
export function topicMatches(pattern: string, topic: string): boolean {
  return matchWords(pattern.split('.'), 0, topic.split('.'), 0);
}

function matchWords(pattern: string[], p: number, words: string[], w: number): boolean {
  if (p === pattern.length) return w === words.length;
  const part = pattern[p];
  if (part === '#') {
    for (let skip = w; skip <= words.length; skip++) {
      if (matchWords(pattern, p + 1, words, skip)) return true;
    }
    return false;
  }
  if (w === words.length) return false;
  return (part === '*' || part === words[w]) && matchWords(pattern, p + 1, words, w + 1);
}
