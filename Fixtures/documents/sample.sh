#!/bin/sh
echo 'not a document'
