// Every instruction handler, for the one translation unit (opcode_table.cpp)
// that instantiates them per opcode-table row and operand width.
#pragma once

#include "alu.inl"
#include "control.inl"
#include "move.inl"
#include "string.inl"
#include "system.inl"
