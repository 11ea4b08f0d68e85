package model_test

import (
	"ctlens/model"
	"ctlens/model/tokenizer"
)

// The HF tokenizer of model/tokenizer is a model.Tokenizer as it is.
var _ model.Tokenizer = (*tokenizer.Tokenizer)(nil)
