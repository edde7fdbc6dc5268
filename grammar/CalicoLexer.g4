// Tokens of the calico policy language. Keywords are listed in alphabetical order; every
// other run of name characters is a WORD, which the source model builder classifies
// (name, CIDR, address, MAC, port, number) where the message can name the field.
lexer grammar CalicoLexer;

ALLOW : 'allow' ;
CODE : 'code' ;
DENY : 'deny' ;
ENDPOINT : 'endpoint' ;
FROM : 'from' ;
GATEWAY : 'gateway' ;
HOST : 'host' ;
IMPORT : 'import' ;
INBOUND : 'inbound' ;
INTERFACE : 'interface' ;
IPV4 : 'ipv4' ;
IPV6 : 'ipv6' ;
MAC : 'mac' ;
NAT : 'nat' ;
NET : 'net' ;
OUTBOUND : 'outbound' ;
PORT : 'port' ;
PORTS : 'ports' ;
PROFILE : 'profile' ;
PROFILES : 'profiles' ;
STATE : 'state' ;
TAG : 'tag' ;
TAGS : 'tags' ;
TO : 'to' ;
TYPE : 'type' ;
WORKLOAD : 'workload' ;

ARROW : '->' ;
COMMA : ',' ;
EQUALS : '=' ;
LBRACE : '{' ;
RBRACE : '}' ;
SEMI : ';' ;

// Comments come before WORD so that a comment of one word is still a comment.
LINE_COMMENT : ('//' | '#') ~[\r\n]* -> skip ;
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
WS : [ \t\r\n\f]+ -> skip ;

STRING : '"' F_STRING_CHAR* '"' ;
WORD : F_WORD_CHAR+ ;

// Anything else is reported once, as an unexpected character, by the parser's listener.
ERROR_CHAR : . ;

fragment F_STRING_CHAR : ~["\\\r\n] | '\\' ["\\] ;
fragment F_WORD_CHAR : [A-Za-z0-9_.:/] | '-' ;
