// The grammar of the .kd language. docs/language.md is its reference.
//
// The language is built from a few regular forms:
//   * declarations at the top level (`data`, `model`, `teacher`, ...);
//   * statements inside bodies: a verb, an optional subject, keyword clauses
//     and trailing named arguments (`train S on d.train epochs 10 batch 128`);
//   * one expression grammar shared by model bodies, losses and arguments,
//     where `->` chains a value through layers.
// Keywords are reserved, but any keyword may be used as a name where a name is
// declared or after a `.` (so `fmnist.train` works).
grammar KD;

file : topDecl* EOF ;

topDecl
  : importDecl
  | letDecl
  | dataDecl
  | modelDecl
  | teacherDecl
  | studentDecl
  | stageDecl
  | statement            // evaluate / export at the top level
  ;

importDecl  : IMPORT STRING ;
letDecl     : LET name '=' expr ;

dataDecl    : DATA name '=' expr '{' dataItem* '}' ;
dataItem    : SPLIT name '=' expr clause*      # splitItem
            | statement                        # dataStatement
            ;

modelDecl   : MODEL name ( '(' ( param ( ',' param )* ','? )? ')' )? '{' modelItem* '}' ;
param       : name ( '=' expr )? ;
modelItem   : INPUT name shape=listLit?                          # inputItem
            | name '=' expr                                      # valueItem
            | BLOCK name '=' expr                                # blockItem
            | EXIT name '=' expr                                 # exitItem
            | OUTPUT expr                                        # outputItem
            | IF expr '{' thenItems+=modelItem* '}'
              ( ELSE '{' elseItems+=modelItem* '}' )?            # ifItem
            ;

teacherDecl : TEACHER name '=' expr body? ;
studentDecl : STUDENT name '=' expr body? ;
stageDecl   : STAGE name ( ':' kind=name )? body ;
body        : '{' statement* '}' ;

// A statement: verb [subject] {keyword [value]} [name: value, ...]
statement   : verb expr? clause* namedArgs? ;
verb        : TRAIN | GRAFT | OPTIMIZER | SCHEDULE | LOSS | GROUP | FREEZE
            | TRANSFORM | LOAD | IMAGE | NORM | LABELS | EVALUATE | EXPORT ;
clause      : clauseKw expr? ;
clauseKw    : ON | EPOCHS | BATCH | STEPS | INTO | AS | MODE | AUGMENT
            | UNLABELED | METRICS | TO | USING | EVERY ;
namedArgs   : namedArg ( ',' namedArg )* ;
namedArg    : name ':' expr ;

// Expressions, from the tightest binding to the loosest.
expr
  : primary                                                   # primaryExpr
  | expr '.' name                                             # memberExpr
  | expr '(' argList? ')'                                     # callExpr
  | expr '[' indexItem ( ',' indexItem )* ']'                 # indexExpr
  | op=( '-' | NOT ) expr                                     # unaryExpr
  | expr op=( '*' | '/' | '%' ) expr                          # binaryExpr
  | expr op=( '+' | '-' ) expr                                # binaryExpr
  | expr op=( '<' | '<=' | '>' | '>=' | '==' | '!=' ) expr    # binaryExpr
  | expr op=AND expr                                          # binaryExpr
  | expr op=OR expr                                           # binaryExpr
  | expr '->' expr                                            # chainExpr
  | IF expr THEN expr ELSE expr                               # ifExpr
  | REPEAT ( name IN )? expr ':' expr                         # repeatExpr
  ;

primary
  : INT                     # intLit
  | FLOAT                   # floatLit
  | STRING                  # stringLit
  | ( TRUE | FALSE )        # boolLit
  | listLit                 # listPrimary
  | ( ID | TRAIN )          # namePrimary
  | '(' expr ')'            # parenExpr
  ;

listLit     : '[' ( expr ( ',' expr )* ','? )? ']' ;
argList     : arg ( ',' arg )* ','? ;
arg         : name ':' expr                # namedCallArg
            | name IN expr ':' expr        # comprehensionArg
            | expr                         # positionalArg
            ;
indexItem   : lo=expr? '..' hi=expr?       # sliceIndex
            | expr                         # plainIndex
            ;

// Anywhere a name is declared, or after '.', a keyword may serve as a name.
name
  : ID | IMPORT | LET | DATA | MODEL | TEACHER | STUDENT | STAGE | SPLIT | INPUT
  | BLOCK | EXIT | OUTPUT | IF | THEN | ELSE | REPEAT | IN | AND | OR | NOT
  | TRUE | FALSE | TRAIN | GRAFT | OPTIMIZER | SCHEDULE | LOSS | GROUP | FREEZE
  | TRANSFORM | LOAD | IMAGE | NORM | LABELS | EVALUATE | EXPORT | ON | EPOCHS
  | BATCH | STEPS | INTO | AS | MODE | AUGMENT | UNLABELED | METRICS | TO
  | USING | EVERY
  ;

IMPORT    : 'import' ;
LET       : 'let' ;
DATA      : 'data' ;
MODEL     : 'model' ;
TEACHER   : 'teacher' ;
STUDENT   : 'student' ;
STAGE     : 'stage' ;
SPLIT     : 'split' ;
INPUT     : 'input' ;
BLOCK     : 'block' ;
EXIT      : 'exit' ;
OUTPUT    : 'output' ;
IF        : 'if' ;
THEN      : 'then' ;
ELSE      : 'else' ;
REPEAT    : 'repeat' ;
IN        : 'in' ;
AND       : 'and' ;
OR        : 'or' ;
NOT       : 'not' ;
TRUE      : 'true' ;
FALSE     : 'false' ;
TRAIN     : 'train' ;
GRAFT     : 'graft' ;
OPTIMIZER : 'optimizer' ;
SCHEDULE  : 'schedule' ;
LOSS      : 'loss' ;
GROUP     : 'group' ;
FREEZE    : 'freeze' ;
TRANSFORM : 'transform' ;
LOAD      : 'load' ;
IMAGE     : 'image' ;
NORM      : 'norm' ;
LABELS    : 'labels' ;
EVALUATE  : 'evaluate' ;
EXPORT    : 'export' ;
ON        : 'on' ;
EPOCHS    : 'epochs' ;
BATCH     : 'batch' ;
STEPS     : 'steps' ;
INTO      : 'into' ;
AS        : 'as' ;
MODE      : 'mode' ;
AUGMENT   : 'augment' ;
UNLABELED : 'unlabeled' ;
METRICS   : 'metrics' ;
TO        : 'to' ;
USING     : 'using' ;
EVERY     : 'every' ;

ID     : [a-zA-Z_] [a-zA-Z_0-9]* ;
INT    : [0-9]+ ( '_' [0-9]+ )* ;
FLOAT  : [0-9]+ '.' [0-9]+ EXPONENT?
       | [0-9]+ EXPONENT
       ;
fragment EXPONENT : [eE] [+-]? [0-9]+ ;
STRING : '"' ( ~["\\\r\n] | '\\' . )* '"' ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
WS            : [ \t\r\n]+ -> skip ;

// Anything else becomes one token the parser rejects with a located error.
UNKNOWN_CHAR : . ;
