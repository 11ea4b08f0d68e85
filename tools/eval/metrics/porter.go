package metrics

import "strings"

// PorterStem is M. F. Porter's suffix-stripping algorithm ("An algorithm
// for suffix stripping", Program 14(3), 1980), as published: steps 1a–5b
// on a lowercase word. NLTK's PorterStemmer defaults to its own extended
// mode, which differs on a few words (e.g. it keeps "-ly" adverbs apart);
// METEOR's stem stage here uses the original.
func PorterStem(word string) string {
	if len(word) <= 2 || strings.IndexFunc(word, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
		return word
	}
	w := []byte(word)

	// cons reports whether w[i] is a consonant: not a vowel, and y only
	// after a vowel (or first).
	var cons func(w []byte, i int) bool
	cons = func(w []byte, i int) bool {
		switch w[i] {
		case 'a', 'e', 'i', 'o', 'u':
			return false
		case 'y':
			return i == 0 || !cons(w, i-1)
		}
		return true
	}
	// measure is m of the stem w[:n]: the number of VC sequences.
	measure := func(w []byte, n int) int {
		m, i := 0, 0
		for i < n && cons(w, i) {
			i++
		}
		for i < n {
			for i < n && !cons(w, i) {
				i++
			}
			if i >= n {
				break
			}
			for i < n && cons(w, i) {
				i++
			}
			m++
		}
		return m
	}
	hasVowel := func(w []byte, n int) bool {
		for i := range n {
			if !cons(w, i) {
				return true
			}
		}
		return false
	}
	doubleC := func(w []byte, n int) bool {
		return n >= 2 && w[n-1] == w[n-2] && cons(w, n-1)
	}
	// cvc: the stem ends consonant-vowel-consonant, the last not w, x, y.
	cvc := func(w []byte, n int) bool {
		if n < 3 || !cons(w, n-1) || cons(w, n-2) || !cons(w, n-3) {
			return false
		}
		c := w[n-1]
		return c != 'w' && c != 'x' && c != 'y'
	}
	ends := func(w []byte, s string) bool { return strings.HasSuffix(string(w), s) }
	// rule replaces suffix s by r when the stem's measure exceeds m; ok
	// reports whether s matched (whether or not it was replaced).
	rule := func(w *[]byte, s, r string, m int) (matched bool) {
		if !ends(*w, s) {
			return false
		}
		n := len(*w) - len(s)
		if measure(*w, n) > m {
			*w = append((*w)[:n], r...)
		}
		return true
	}

	// Step 1a
	switch {
	case ends(w, "sses"):
		w = w[:len(w)-2]
	case ends(w, "ies"):
		w = w[:len(w)-2]
	case ends(w, "ss"):
	case ends(w, "s"):
		w = w[:len(w)-1]
	}
	// Step 1b
	extra := false
	switch {
	case ends(w, "eed"):
		if measure(w, len(w)-3) > 0 {
			w = w[:len(w)-1]
		}
	case ends(w, "ed") && hasVowel(w, len(w)-2):
		w, extra = w[:len(w)-2], true
	case ends(w, "ing") && hasVowel(w, len(w)-3):
		w, extra = w[:len(w)-3], true
	}
	if extra {
		switch {
		case ends(w, "at"), ends(w, "bl"), ends(w, "iz"):
			w = append(w, 'e')
		case doubleC(w, len(w)) && !ends(w, "l") && !ends(w, "s") && !ends(w, "z"):
			w = w[:len(w)-1]
		case measure(w, len(w)) == 1 && cvc(w, len(w)):
			w = append(w, 'e')
		}
	}
	// Step 1c
	if ends(w, "y") && hasVowel(w, len(w)-1) {
		w[len(w)-1] = 'i'
	}
	// Step 2 (m > 0)
	for _, p := range [][2]string{
		{"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"}, {"anci", "ance"}, {"izer", "ize"},
		{"abli", "able"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"}, {"ousli", "ous"},
		{"ization", "ize"}, {"ation", "ate"}, {"ator", "ate"}, {"alism", "al"}, {"iveness", "ive"},
		{"fulness", "ful"}, {"ousness", "ous"}, {"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"},
	} {
		if rule(&w, p[0], p[1], 0) {
			break
		}
	}
	// Step 3 (m > 0)
	for _, p := range [][2]string{
		{"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"}, {"ical", "ic"}, {"ful", ""}, {"ness", ""},
	} {
		if rule(&w, p[0], p[1], 0) {
			break
		}
	}
	// Step 4 (m > 1): the first suffix that matches decides; where one
	// suffix ends another (ement, ment, ent) the longer comes first.
	for _, s := range []string{
		"ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate", "iti", "ous", "ive", "ize",
		"ion", "al", "er", "ic", "ou",
	} {
		if !ends(w, s) {
			continue
		}
		n := len(w) - len(s)
		if s == "ion" && (n == 0 || (w[n-1] != 's' && w[n-1] != 't')) {
			continue
		}
		if measure(w, n) > 1 {
			w = w[:n]
		}
		break
	}
	// Step 5a
	if ends(w, "e") {
		n := len(w) - 1
		if m := measure(w, n); m > 1 || m == 1 && !cvc(w, n) {
			w = w[:n]
		}
	}
	// Step 5b
	if measure(w, len(w)) > 1 && doubleC(w, len(w)) && ends(w, "l") {
		w = w[:len(w)-1]
	}
	return string(w)
}
