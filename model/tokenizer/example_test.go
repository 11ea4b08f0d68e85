package tokenizer_test

import (
	"fmt"
	"slices"

	"ctlens/model/tokenizer"
)

func Example() {
	corpus := []string{
		"No pneumothorax. A 2.3 cm hypodense lesion in segment VII.",
		"No pleural effusion. A 1.5 cm hypodense lesion in segment VIII.",
	}
	tok, err := tokenizer.Train(slices.Values(corpus), 300, tokenizer.TrainOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ids := tok.Encode("<|user|>Hypodense lesion?<|end|>", false)
	fmt.Println(tok.Decode(ids, false))
	fmt.Println(tok.Decode(ids, true))

	// Streaming: text as ids arrive, never half a character.
	s := tok.NewStream(true)
	for _, id := range tok.Encode("2.3 cm 🙂", false) {
		fmt.Printf("%q ", s.Next(id))
	}
	fmt.Printf("%q\n", s.Flush())
	// Output:
	// <|user|>Hypodense lesion?<|end|>
	// Hypodense lesion?
	// "2" "." "3" " cm" " " "" "" "" "🙂" ""
}
